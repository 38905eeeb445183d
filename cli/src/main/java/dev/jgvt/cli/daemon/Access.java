package dev.jgvt.cli.daemon;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.Arrays;
import java.util.Optional;
import jdk.net.UnixDomainPrincipal;

/**
 * Who may use the service: root, the user the service runs as, and the members of the configured group
 * ({@code --group}). Two layers enforce it. The kernel: the runtime directory is {@code 0750} and every socket in
 * it (control, vfio-user) {@code 0660}, owned by the service's user and the group, so nobody else can even
 * connect. The service: each control connection's peer credentials ({@code SO_PEERCRED}, read through the JDK's
 * {@code jdk.net.ExtendedSocketOptions.SO_PEERCRED}) are checked before any request is read, so a socket made
 * reachable by mistake still refuses strangers, with a reply saying why.
 *
 * <p>Group membership: the peer's primary group, or its user name in the group's member list in
 * {@code /etc/group}. SO_PEERCRED carries no supplementary groups; groups from other NSS sources are therefore
 * recognised only as primary groups (the kernel's socket permission still admits them to connect).
 */
final class Access {
    private final UserPrincipal owner;
    private final UserPrincipal root;
    private final Optional<GroupPrincipal> group;
    private final Optional<String> groupName;

    private Access(UserPrincipal owner, UserPrincipal root, Optional<GroupPrincipal> group, Optional<String> groupName) {
        this.owner = owner;
        this.root = root;
        this.group = group;
        this.groupName = groupName;
    }

    /**
     * The rule for a service whose runtime directory is {@code runtimeDir} (created by it, so owned by its user).
     *
     * @throws GvtException {@link ErrorCode#NOT_FOUND} for a group that does not exist
     */
    static Access forService(Path runtimeDir, Optional<String> groupName) {
        requireNonNull(runtimeDir, "runtimeDir is null");
        UserPrincipalLookupService lookup = runtimeDir.getFileSystem().getUserPrincipalLookupService();
        try {
            UserPrincipal owner = Files.getOwner(runtimeDir);
            UserPrincipal root = lookup.lookupPrincipalByName("root");
            Optional<GroupPrincipal> group = Optional.empty();
            if (groupName.isPresent()) {
                try {
                    group = Optional.of(lookup.lookupPrincipalByGroupName(groupName.get()));
                } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
                    throw new GvtException(ErrorCode.NOT_FOUND, "--group " + groupName.get() + ": no such group");
                }
            }
            return new Access(owner, root, group, groupName);
        } catch (IOException e) {
            throw new GvtException(ErrorCode.IO_ERROR, "cannot look up the owner of " + runtimeDir + ": " + e, e);
        }
    }

    /** Restricts the runtime directory: {@code rwxr-x---}, group as configured. */
    void applyToDirectory(Path dir) {
        apply(dir, "rwxr-x---");
    }

    /** Restricts a socket the service created: {@code rw-rw----}, group as configured. */
    void applyToSocket(Path socket) {
        apply(socket, "rw-rw----");
    }

    private void apply(Path path, String mode) {
        try {
            PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
            if (group.isPresent()) {
                view.setGroup(group.get());
            }
            view.setPermissions(PosixFilePermissions.fromString(mode));
        } catch (IOException e) {
            throw new GvtException(ErrorCode.IO_ERROR, "cannot set the owner group and mode of " + path + ": " + e, e);
        }
    }

    /** Whether a peer with these credentials may use the service. */
    boolean permits(UnixDomainPrincipal peer) {
        if (peer.user().equals(root) || peer.user().equals(owner)) {
            return true;
        }
        if (group.isEmpty()) {
            return false;
        }
        return peer.group().equals(group.get()) || listedMember(peer.user().getName());
    }

    /** Who is allowed, for refusals. */
    String describe() {
        String users = owner.equals(root) ? "root" : "root, " + owner.getName();
        return users + groupName.map(g -> " and members of group " + g).orElse("");
    }

    private boolean listedMember(String user) {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/group"))) {
                String[] fields = line.split(":", -1);
                if (fields.length >= 4 && fields[0].equals(groupName.get())
                        && Arrays.asList(fields[3].split(",")).contains(user)) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }
}
