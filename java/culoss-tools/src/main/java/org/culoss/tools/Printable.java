package org.culoss.tools;

/**
 * Text from a case file (its name, its loss, its parameter names, the file name) made safe to
 * print on one line of a terminal: a case could otherwise end its line and forge another one (a
 * "999 passed, 0 failed" summary) or send escape sequences to the terminal.
 */
final class Printable {
    private Printable() {}

    /**
     * {@code text} with every control character (C0, DEL, C1), line or paragraph separator and
     * backslash escaped: \n, \r, \t, \\ and \\uXXXX for the others. Printable text is unchanged.
     */
    static String escape(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            String replacement = replacement(ch);
            if (replacement == null) {
                if (out != null) out.append(ch);
                continue;
            }
            if (out == null) out = new StringBuilder(text.length() + 16).append(text, 0, i);
            out.append(replacement);
        }
        return out == null ? text : out.toString();
    }

    private static String replacement(char ch) {
        switch (ch) {
            case '\n':
                return "\\n";
            case '\r':
                return "\\r";
            case '\t':
                return "\\t";
            case '\\':
                return "\\\\";
            default:
                boolean unsafe = Character.isISOControl(ch) || ch == '\u2028' || ch == '\u2029';
                return unsafe ? String.format("\\u%04x", (int) ch) : null;
        }
    }
}
