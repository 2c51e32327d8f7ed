-- The soak's mixed load: one submit in every GENQUEUE_SUBMIT_EVERY requests (default 10), the rest
-- status reads of ids from the file GENQUEUE_IDS (one per line), chosen at random. With
-- GENQUEUE_DELAY_MS each connection waits that long before each request (wrk's delay()), which
-- holds the rate near connections x 1000 / delay per second; without it, as fast as the server answers.
local key = os.getenv("GENQUEUE_KEY")
local every = tonumber(os.getenv("GENQUEUE_SUBMIT_EVERY") or "10")
local pause = tonumber(os.getenv("GENQUEUE_DELAY_MS") or "0")
local ids = {}
for line in io.lines(os.getenv("GENQUEUE_IDS")) do
  ids[#ids + 1] = line
end
wrk.headers["Authorization"] = "Bearer " .. key
-- wrk.format's headers replace wrk.headers: the submit's carry the key too
local post = {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}
local body = '{"prompt":"A red apple on a white table, clean studio lighting, simple background, product shot","num_images":1,"output_format":"jpeg"}'

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

local n = 0
function init(args)
  math.randomseed(seed)
  n = seed
end

function request()
  n = n + 1
  if n % every == 0 then
    return wrk.format("POST", "/v1/queue/nano_banana", post, body)
  end
  return wrk.format("GET", "/v1/queue/nano_banana/requests/" .. ids[math.random(#ids)] .. "/status")
end

if pause > 0 then
  function delay()
    return pause
  end
end
