package io.genqueue.client;

import io.genqueue.generation.ErrorType;
import io.genqueue.image.OutputFormat;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.GenerationResult;
import io.genqueue.provider.ImageProvider;
import io.genqueue.provider.ProviderException;
import io.genqueue.provider.preview.PreviewProvider;
import java.util.Set;

/**
 * The preview model, failing as a prompt asks: {@code [content]} a content-policy block,
 * {@code [error]} a final upstream error. Anything else renders a preview.
 */
public final class ScriptedModel implements ImageProvider {

    private final PreviewProvider preview = new PreviewProvider();

    @Override
    public String name() {
        return "scripted";
    }

    @Override
    public Set<OutputFormat> outputFormats() {
        return preview.outputFormats();
    }

    @Override
    public GenerationResult generate(GenerationRequest request) throws InterruptedException {
        if (request.prompt().contains("[content]")) {
            throw ProviderException.fatal(ErrorType.CONTENT_POLICY_VIOLATION, "the prompt was blocked (SAFETY)");
        }
        if (request.prompt().contains("[error]")) {
            throw ProviderException.fatal(ErrorType.PROVIDER_ERROR, "upstream answered 400 INVALID_ARGUMENT");
        }
        return preview.generate(request);
    }
}
