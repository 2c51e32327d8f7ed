-- Polling at a fixed pace: each wrk thread walks the ids of GENQUEUE_IDS (one per line) in turn,
-- from its own starting point, and each connection waits GENQUEUE_DELAY_MS before each request, so
-- the offered rate is about connections x 1000 / (delay + latency) per second. With GENQUEUE_PORTS
-- (comma-separated), threads are spread over those ports of 127.0.0.1 as in submit.lua.
local key = os.getenv("GENQUEUE_KEY")
local pause = tonumber(os.getenv("GENQUEUE_DELAY_MS") or "0")
local ids = {}
for line in io.lines(os.getenv("GENQUEUE_IDS")) do
  ids[#ids + 1] = line
end
wrk.headers["Authorization"] = "Bearer " .. key

local ports = {}
local spread = os.getenv("GENQUEUE_PORTS")
if spread then
  for port in string.gmatch(spread, "[0-9]+") do
    ports[#ports + 1] = port
  end
end

local threads = 0
function setup(thread)
  thread:set("first", threads)
  if #ports > 0 then
    thread.addr = wrk.lookup("127.0.0.1", ports[(threads % #ports) + 1])[1]
  end
  threads = threads + 1
end

local next_id
function init(args)
  next_id = (first * 7919) % #ids
end

function delay()
  return pause
end

function request()
  next_id = next_id % #ids + 1
  return wrk.format("GET", "/v1/queue/nano_banana/requests/" .. ids[next_id] .. "/status")
end
