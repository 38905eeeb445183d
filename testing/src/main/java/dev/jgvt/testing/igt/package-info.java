/**
 * A harness around intel-gpu-tools' {@code intel_dump_decode} (Debian package intel-gpu-tools, installed by
 * {@code .ci/run}): runs it on a buffer of commands and reads back where it thinks each command starts and what it
 * calls it, plus the documented places where its (partly pre-Gen8) length rules are wrong for Gen9. Shared by the
 * table-row differential and the real-stream corpus differential, so both are held to the same exceptions.
 */
package dev.jgvt.testing.igt;
