package io.genqueue.http;

import io.genqueue.catalog.Model;
import io.genqueue.generation.InputValidator;
import io.genqueue.provider.ProviderHealth;
import java.util.List;
import java.util.function.Supplier;

/**
 * One model as the HTTP layer serves it: the validator of its rules (which holds its record) and
 * the health of its own providers, for {@code /v1/models}.
 */
public record ServedModel(InputValidator validator, Supplier<List<ProviderHealth>> providers) {

    public Model model() {
        return validator.model();
    }

    public String id() {
        return validator.model().id();
    }
}
