-- Durable submits: the same ~300-byte body as the baseline POST. The key comes from GENQUEUE_KEY.
-- With GENQUEUE_PORTS (comma-separated), wrk's threads are spread over those ports of 127.0.0.1,
-- one port per thread in turn (wrk cannot rotate hosts per request, but a thread's address can be
-- set in setup), so one wrk loads several servers and reports one latency histogram.
local key = os.getenv("GENQUEUE_KEY")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
wrk.body = '{"prompt":"A red apple on a white table, clean studio lighting, simple background, product shot suitable for ecommerce and ads, camera at eye level, soft shadows, 50mm lens, high detail","aspect_ratio":"4:3","num_images":1,"output_format":"png","seed":42}'

-- With GENQUEUE_DELAY_MS, each connection waits that long before each request (a paced load).
local pause = tonumber(os.getenv("GENQUEUE_DELAY_MS") or "")
if pause then
  function delay()
    return pause
  end
end

local spread = os.getenv("GENQUEUE_PORTS")
if spread then
  local ports = {}
  for port in string.gmatch(spread, "[0-9]+") do
    ports[#ports + 1] = port
  end
  local threads = 0
  function setup(thread)
    thread.addr = wrk.lookup("127.0.0.1", ports[(threads % #ports) + 1])[1]
    threads = threads + 1
  end
end
