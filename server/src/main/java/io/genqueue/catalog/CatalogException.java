package io.genqueue.catalog;

/** A catalog that cannot be used; the message names the file, the model and the field at fault. */
public final class CatalogException extends IllegalArgumentException {

    CatalogException(String message) {
        super(message);
    }
}
