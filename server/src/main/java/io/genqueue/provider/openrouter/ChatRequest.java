package io.genqueue.provider.openrouter;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genqueue.image.ImageData;
import io.genqueue.image.ImageFormat;
import io.genqueue.json.Json;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.Transcoder;
import java.util.Base64;
import java.util.Set;

/**
 * The body of one {@code POST /v1/chat/completions} call that asks an image model for one image.
 *
 * <p>Shape (OpenRouter's image-generation guide): one user message whose content is a text part
 * with the prompt followed by one {@code image_url} part per reference image, as a base64
 * {@code data:} URL; {@code modalities ["image","text"]} (Gemini needs both, {@code ["image"]}
 * is for image-only models); {@code image_config.aspect_ratio}; no streaming. No {@code models}
 * fallback list and no {@code provider} routing: fallbacks are the gateway's router's business,
 * and a silent switch to another model would change sizes and prices behind its back.
 */
final class ChatRequest {

    /** What Gemini takes inline; anything else (GIF) is sent as PNG. */
    static final Set<ImageFormat> ACCEPTED_REFERENCES = Set.of(ImageFormat.PNG, ImageFormat.JPEG, ImageFormat.WEBP);

    private ChatRequest() {
    }

    /** @param sendsImageSize whether {@code image_config.image_size} carries the request's size tier */
    static byte[] body(String model, GenerationRequest request, String providerName, boolean sendsImageSize) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ArrayNode content = f.arrayNode();
        content.addObject().put("type", "text").put("text", request.prompt());
        for (ImageData reference : request.references()) {
            ImageData sent = Transcoder.acceptable(reference, ACCEPTED_REFERENCES, providerName);
            content.addObject()
                    .put("type", "image_url")
                    .putObject("image_url")
                    .put("url", dataUrl(sent));
        }
        ObjectNode body = f.objectNode();
        body.put("model", model);
        body.putArray("messages").addObject().put("role", "user").set("content", content);
        body.putArray("modalities").add("image").add("text");
        ObjectNode image = body.putObject("image_config").put("aspect_ratio", request.aspectRatio().wire());
        if (sendsImageSize && request.imageSize() != null) {
            image.put("image_size", request.imageSize());
        }
        if (request.seed() != null) {
            body.put("seed", request.seed());
        }
        body.put("stream", false);
        return Json.write(body);
    }

    static String dataUrl(ImageData image) {
        return "data:" + image.info().contentType() + ";base64," + Base64.getEncoder().encodeToString(image.bytes());
    }
}
