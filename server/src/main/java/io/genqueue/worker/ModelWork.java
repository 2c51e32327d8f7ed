package io.genqueue.worker;

import io.genqueue.catalog.Model;
import io.genqueue.provider.router.ProviderRouter;

/**
 * One served model as the worker sees it: its record (sizes, slot share) and the router of its own
 * provider chain. The worker claims each model's jobs up to the model's cap and runs them on its router.
 */
public record ModelWork(Model model, ProviderRouter providers) {
}
