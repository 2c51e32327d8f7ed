package io.genqueue.image;

import java.io.IOException;
import java.util.Objects;
import javax.imageio.stream.ImageInputStreamImpl;

/**
 * An {@code ImageInputStream} over image bytes already in memory, which also bounds how much
 * work a decoder can do on hostile input.
 *
 * <p>Some decoders do not stop at the end of damaged data: TwelveMonkeys' WebP lossless bit
 * reader swallows the {@link java.io.EOFException} and the decoder keeps reading the end of the
 * stream, effectively forever. So reading past the end more than {@value #MAX_END_READS} times,
 * or reading more than {@value #READ_FACTOR} times the bytes (plus {@value #READ_ALLOWANCE}
 * bytes, since decoders re-read headers and seek back), throws {@link DecodingRunaway}: an
 * unchecked exception that such a decoder does not catch, which ends the decode. A valid image
 * comes nowhere near either bound.
 */
final class ImageBytesInput extends ImageInputStreamImpl {

    static final int MAX_END_READS = 1024;
    static final int READ_FACTOR = 64;
    static final int READ_ALLOWANCE = 1 << 20;

    /** A decoder went on reading far beyond what the image can justify. */
    static final class DecodingRunaway extends RuntimeException {
        DecodingRunaway(String message) {
            super(message);
        }
    }

    private final byte[] bytes;
    private long readBudget;
    private int endReads;

    ImageBytesInput(byte[] bytes) {
        this.bytes = Objects.requireNonNull(bytes, "bytes");
        this.readBudget = (long) READ_FACTOR * bytes.length + READ_ALLOWANCE;
    }

    @Override
    public int read() throws IOException {
        checkClosed();
        bitOffset = 0;
        if (streamPos >= bytes.length) {
            atEnd();
            return -1;
        }
        spend(1);
        return bytes[(int) streamPos++] & 0xff;
    }

    @Override
    public int read(byte[] target, int offset, int length) throws IOException {
        checkClosed();
        Objects.checkFromIndexSize(offset, length, target.length);
        bitOffset = 0;
        if (length == 0) {
            return 0;
        }
        if (streamPos >= bytes.length) {
            atEnd();
            return -1;
        }
        int n = (int) Math.min(length, bytes.length - streamPos);
        spend(n);
        System.arraycopy(bytes, (int) streamPos, target, offset, n);
        streamPos += n;
        return n;
    }

    @Override
    public long length() {
        return bytes.length;
    }

    private void atEnd() {
        if (++endReads > MAX_END_READS) {
            throw new DecodingRunaway("decoder kept reading past the end of the image");
        }
    }

    private void spend(int n) {
        readBudget -= n;
        if (readBudget < 0) {
            throw new DecodingRunaway("decoder read far more than the image holds");
        }
    }
}
