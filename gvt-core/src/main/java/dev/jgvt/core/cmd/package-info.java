/**
 * The command scanner: Gen9 command definitions as data ({@link dev.jgvt.core.cmd.CommandTable}), ring and
 * batch buffer shadowing, address audit against the vGPU's partition, the register policy, patched commands
 * and virtual events ({@link dev.jgvt.core.cmd.CommandScanner}). A security boundary: see
 * {@code docs/command-scanner.md}.
 */
package dev.jgvt.core.cmd;
