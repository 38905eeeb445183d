package dev.jgvt.cli.daemon;

import static java.util.Objects.requireNonNull;

import java.util.UUID;

/**
 * A persistent vGPU definition, as mdevctl keeps one per device: its UUID, its type and whether it starts with
 * the service. Stored as {@code <uuid>.json} in the configuration directory ({@link DefinitionStore}).
 *
 * @param uuid the vGPU's UUID (names its file and its vfio-user socket)
 * @param type the vGPU type, e.g. {@code GVTg_V5_4}
 * @param auto whether the service starts it when it starts ({@code gvt define --auto})
 */
public record Definition(UUID uuid, String type, boolean auto) {
    public Definition {
        requireNonNull(uuid, "uuid is null");
        requireNonNull(type, "type is null");
        if (type.isBlank()) {
            throw new IllegalArgumentException("type is blank");
        }
    }
}
