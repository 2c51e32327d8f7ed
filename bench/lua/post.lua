-- The baseline POST: a ~300-byte JSON body, like a submit.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"nano_banana","client_id":"bench-client-0001","prompt":"A red apple on a white table, clean studio lighting, simple background, product shot suitable for ecommerce and ads, camera at eye level, soft shadows, 50mm lens","aspect_ratio":"4:3","num_images":1,"output_format":"png","seed":42}'
