package dev.jgvt.plugin.kvm.os;

import java.util.Map;

/** Linux x86-64 errno values this plugin names, with their symbolic names (one row per errno). */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int EPIPE = 32;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    public static final int ENOMSG = 42;
    public static final int EPROTO = 71;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSOCK = 88;
    public static final int EMSGSIZE = 90;
    public static final int ENOTSUP = 95;
    public static final int EADDRINUSE = 98;
    public static final int ECONNRESET = 104;
    public static final int ENOTCONN = 107;
    public static final int ECONNREFUSED = 111;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(EPERM, "EPERM"),
            Map.entry(ENOENT, "ENOENT"),
            Map.entry(EINTR, "EINTR"),
            Map.entry(EIO, "EIO"),
            Map.entry(ENXIO, "ENXIO"),
            Map.entry(E2BIG, "E2BIG"),
            Map.entry(EBADF, "EBADF"),
            Map.entry(EAGAIN, "EAGAIN"),
            Map.entry(ENOMEM, "ENOMEM"),
            Map.entry(EACCES, "EACCES"),
            Map.entry(EFAULT, "EFAULT"),
            Map.entry(EBUSY, "EBUSY"),
            Map.entry(EEXIST, "EEXIST"),
            Map.entry(ENODEV, "ENODEV"),
            Map.entry(ENOTDIR, "ENOTDIR"),
            Map.entry(EINVAL, "EINVAL"),
            Map.entry(ENFILE, "ENFILE"),
            Map.entry(EMFILE, "EMFILE"),
            Map.entry(ENOTTY, "ENOTTY"),
            Map.entry(ENOSPC, "ENOSPC"),
            Map.entry(EROFS, "EROFS"),
            Map.entry(EPIPE, "EPIPE"),
            Map.entry(ENAMETOOLONG, "ENAMETOOLONG"),
            Map.entry(ENOSYS, "ENOSYS"),
            Map.entry(ENOMSG, "ENOMSG"),
            Map.entry(EPROTO, "EPROTO"),
            Map.entry(EOVERFLOW, "EOVERFLOW"),
            Map.entry(ENOTSOCK, "ENOTSOCK"),
            Map.entry(EMSGSIZE, "EMSGSIZE"),
            Map.entry(ENOTSUP, "ENOTSUP"),
            Map.entry(EADDRINUSE, "EADDRINUSE"),
            Map.entry(ECONNRESET, "ECONNRESET"),
            Map.entry(ENOTCONN, "ENOTCONN"),
            Map.entry(ECONNREFUSED, "ECONNREFUSED"));

    private Errno() {}

    /** The symbolic name of {@code errno} ({@code "EBADF"}), or {@code "errno-N"} for one not in the table. */
    public static String name(int errno) {
        String name = NAMES.get(errno);
        return name != null ? name : "errno-" + errno;
    }
}
