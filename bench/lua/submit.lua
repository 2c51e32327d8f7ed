-- Durable submits: the same ~300-byte body as the baseline POST. The key comes from GENQUEUE_KEY.
local key = os.getenv("GENQUEUE_KEY")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
wrk.body = '{"prompt":"A red apple on a white table, clean studio lighting, simple background, product shot suitable for ecommerce and ads, camera at eye level, soft shadows, 50mm lens, high detail","aspect_ratio":"4:3","num_images":1,"output_format":"png","seed":42}'
