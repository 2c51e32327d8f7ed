-- Status reads of existing requests: ids from the file GENQUEUE_IDS (one per line), chosen at random.
local key = os.getenv("GENQUEUE_KEY")
local ids = {}
for line in io.lines(os.getenv("GENQUEUE_IDS")) do
  ids[#ids + 1] = line
end
wrk.headers["Authorization"] = "Bearer " .. key

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  math.randomseed(seed)
end

function request()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", "/v1/queue/nano_banana/requests/" .. id .. "/status")
end
