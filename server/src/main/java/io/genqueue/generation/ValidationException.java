package io.genqueue.generation;

import java.util.List;

/** A request that broke one or more rules; carries every violation, not only the first. */
public final class ValidationException extends RuntimeException {

    private final List<Violation> violations;

    public ValidationException(List<Violation> violations) {
        super(violations.isEmpty() ? "invalid request" : violations.get(0).msg(), null, false, false);
        if (violations.isEmpty()) {
            throw new IllegalArgumentException("a validation failure needs at least one violation");
        }
        this.violations = List.copyOf(violations);
    }

    public List<Violation> violations() {
        return violations;
    }
}
