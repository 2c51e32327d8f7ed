package io.genqueue.image;

/** What the bytes of an image say about it: its real format and pixel size, and its length. */
public record ImageInfo(ImageFormat format, int width, int height, long byteSize) {

    public String contentType() {
        return format.contentType();
    }
}
