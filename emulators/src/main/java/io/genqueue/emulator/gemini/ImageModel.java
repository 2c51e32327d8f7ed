package io.genqueue.emulator.gemini;

import io.genqueue.image.AspectRatio;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The image models the emulator serves, each with Google's own size table (Google's image
 * generation page, ai.google.dev/gemini-api/docs/image-generation): Gemini 2.5 Flash Image makes one
 * size per aspect ratio ({@link AspectRatio}'s table) and takes no tier other than {@code 1K}; Gemini 3
 * Pro Image takes {@code imageSize} {@code 1K}, {@code 2K} or {@code 4K}, whose sizes are its 1K size
 * times one, two and four.
 *
 * @param sizes the {@code imageSize} values it takes, the default first
 */
record ImageModel(String id, List<String> sizes, Map<AspectRatio, int[]> base) {

    static final ImageModel FLASH = new ImageModel("gemini-2.5-flash-image", List.of("1K"), flashTable());
    static final ImageModel PRO = new ImageModel("gemini-3-pro-image-preview", List.of("1K", "2K", "4K"), Map.of(
            AspectRatio.R1_1, new int[] {1024, 1024}, AspectRatio.R2_3, new int[] {848, 1264},
            AspectRatio.R3_2, new int[] {1264, 848}, AspectRatio.R3_4, new int[] {896, 1200},
            AspectRatio.R4_3, new int[] {1200, 896}, AspectRatio.R4_5, new int[] {928, 1152},
            AspectRatio.R5_4, new int[] {1152, 928}, AspectRatio.R9_16, new int[] {768, 1376},
            AspectRatio.R16_9, new int[] {1376, 768}, AspectRatio.R21_9, new int[] {1584, 672}));
    static final List<ImageModel> ALL = List.of(FLASH, PRO);

    static Optional<ImageModel> of(String id) {
        return ALL.stream().filter(m -> m.id.equals(id)).findFirst();
    }

    /** Width and height of this ratio at this tier (a tier of {@link #sizes}, or null for the default). */
    int[] size(AspectRatio ratio, String tier) {
        int factor = tier == null ? 1 : Integer.parseInt(tier.substring(0, tier.length() - 1));
        int[] b = base.get(ratio);
        return new int[] {b[0] * factor, b[1] * factor};
    }

    private static Map<AspectRatio, int[]> flashTable() {
        Map<AspectRatio, int[]> table = new java.util.EnumMap<>(AspectRatio.class);
        for (AspectRatio r : AspectRatio.values()) {
            table.put(r, new int[] {r.width(), r.height()});
        }
        return Map.copyOf(table);
    }
}
