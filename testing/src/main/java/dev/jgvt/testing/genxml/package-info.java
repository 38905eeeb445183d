/**
 * Facts about Gen9 commands extracted from Mesa's genxml (header fields, length field, bias, address dwords), and
 * the documented places where the project's tables differ from them. Shared by the scanner's table test, the
 * simulated GPU's hardware table test and the IGT cross-check, so all three are held to the same facts.
 */
package dev.jgvt.testing.genxml;
