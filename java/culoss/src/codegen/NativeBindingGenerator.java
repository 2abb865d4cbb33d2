import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes {@code org.culoss.internal.CulossNative}, the JavaCPP binding of the C header, from the
 * header itself: one static native method per {@code CULOSS_API} function and one constant per
 * integer {@code #define}, so that a new entry point in the header is bound without writing Java.
 * Maven runs it before compiling ({@code java NativeBindingGenerator.java HEADER OUT_DIR}).
 *
 * <p>Why not JavaCPP's own Parser: it maps {@code float*} to {@code FloatPointer}, and the library
 * passes every tensor as a raw address ({@code @Cast("float*") long}) so that device memory, a
 * pipeline's foreign device pointers and host memory all pass the same way, with no Pointer object
 * per argument per call. The header is plain C with one function per declaration, which a few
 * regular expressions read exactly; anything they cannot map fails the build with its name.
 *
 * <p>Type mapping: tensors and workspaces (any pointer but the three out-parameters below) and the
 * stream are addresses; {@code int64_t} and {@code size_t} are {@code long}; the enums are
 * {@code int}; {@code size_t*}, {@code int*} and {@code void**} out-parameters are JavaCPP's
 * {@code SizeTPointer}, {@code IntPointer} and {@code LongPointer}; a {@code const char*} result is
 * a {@code String}.
 */
public final class NativeBindingGenerator {
    private static final Pattern DECLARATION = Pattern.compile(
            "CULOSS_API\\s+([\\w\\s\\*]+?)\\s*\\b(culoss\\w+)\\s*\\(([^)]*)\\)\\s*;");
    private static final Pattern DEFINE = Pattern.compile("(?m)^#define\\s+CULOSS_(\\w+)\\s+(-?\\d+|INT64_MIN)\\s*$");
    // The tag may be followed by CULOSS_INT_ENUM (": int" in C++).
    private static final Pattern ENUM =
            Pattern.compile("typedef\\s+enum\\s+\\w*\\s*(?:CULOSS_INT_ENUM\\s*)?\\{[^}]*\\}\\s*(\\w+)\\s*;");
    private static final Pattern POINTER_TYPEDEF = Pattern.compile("typedef\\s+struct\\s+\\w+\\s*\\*\\s*(\\w+)\\s*;");

    public static void main(String[] args) throws IOException {
        if (args.length != 2) throw new IllegalArgumentException("usage: NativeBindingGenerator HEADER OUT_DIR");
        String header = stripComments(Files.readString(Path.of(args[0])));
        Path out = Path.of(args[1], "org", "culoss", "internal", "CulossNative.java");
        Files.createDirectories(out.getParent());
        String source = generate(header);
        // Rewriting an unchanged file would make the compiler and the JNI build redo their work.
        if (!Files.exists(out) || !Files.readString(out).equals(source)) Files.writeString(out, source);
    }

    static String stripComments(String s) {
        return s.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", "");
    }

    static String generate(String header) {
        List<String> enums = names(ENUM, header), pointers = names(POINTER_TYPEDEF, header);
        StringBuilder java = new StringBuilder();
        java.append("""
                // Generated from native/include/culoss/culoss.h by java/culoss/src/codegen/NativeBindingGenerator.java.
                // Do not edit: change the header.
                package org.culoss.internal;

                import org.bytedeco.javacpp.IntPointer;
                import org.bytedeco.javacpp.LongPointer;
                import org.bytedeco.javacpp.SizeTPointer;
                import org.bytedeco.javacpp.annotation.Cast;
                import org.bytedeco.javacpp.annotation.Platform;

                /**
                 * The JavaCPP binding of {@code culoss/culoss.h}: one static native method per C function, one
                 * constant per integer macro. Tensor arguments are raw addresses ({@code long}) so that device
                 * memory, foreign device pointers and host memory all pass the same way; callers check sizes and
                 * bounds before they get here. Which native library answers is {@link NativeLoader}'s choice.
                 */
                @Platform(include = "culoss/culoss.h")
                public final class CulossNative {
                    static {
                        NativeLoader.load();
                    }

                    private CulossNative() {}

                """);
        Matcher define = DEFINE.matcher(header);
        while (define.find()) {
            String value = define.group(2);
            String type = value.equals("INT64_MIN") || !fitsInt(value) ? "long" : "int";
            java.append("    /** {@code CULOSS_").append(define.group(1)).append("}. */\n");
            java.append("    public static final ").append(type).append(' ').append(define.group(1)).append(" = ")
                    .append(value.equals("INT64_MIN") ? "Long.MIN_VALUE" : value).append(";\n");
        }
        Matcher m = DECLARATION.matcher(header);
        int functions = 0;
        while (m.find()) {
            String name = m.group(2);
            java.append("\n    public static native ").append(result(m.group(1).trim(), name)).append(' ')
                    .append(name).append('(');
            List<String> params = parameters(m.group(3), name, enums, pointers);
            java.append(String.join(",\n            ", params)).append(");\n");
            functions++;
        }
        if (functions == 0) throw new IllegalStateException("no CULOSS_API function found in the header");
        return java.append("}\n").toString();
    }

    private static List<String> names(Pattern p, String s) {
        List<String> out = new ArrayList<>();
        Matcher m = p.matcher(s);
        while (m.find()) out.add(m.group(1));
        return out;
    }

    private static boolean fitsInt(String literal) {
        long v = Long.parseLong(literal);
        return v == (int) v;
    }

    private static String result(String type, String function) {
        return switch (normalize(type)) {
            case "const char*" -> "String";
            case "int", "culossStatus_t" -> "int";
            default -> throw new IllegalStateException(function + ": no Java type for the result " + type);
        };
    }

    private static List<String> parameters(String list, String function, List<String> enums, List<String> pointers) {
        List<String> out = new ArrayList<>();
        if (list.isBlank() || list.trim().equals("void")) return out;
        for (String param : list.split(",")) {
            Matcher m = Pattern.compile("^(.*?)\\s*\\b(\\w+)$").matcher(param.trim());
            if (!m.matches()) throw new IllegalStateException(function + ": cannot read the parameter " + param);
            out.add(javaType(normalize(m.group(1)), function, enums, pointers) + ' ' + camelCase(m.group(2)));
        }
        return out;
    }

    /** {@code const float *} and {@code const float*} alike: single spaces, {@code *} bound left. */
    private static String normalize(String type) {
        return type.replaceAll("\\s+", " ").replaceAll(" ?\\* ?", "*").trim();
    }

    private static final Map<String, String> SCALARS = new LinkedHashMap<>();

    static {
        SCALARS.put("int64_t", "@Cast(\"int64_t\") long");
        SCALARS.put("size_t", "@Cast(\"size_t\") long");
        SCALARS.put("int", "int");
        SCALARS.put("float", "float");
        SCALARS.put("size_t*", "SizeTPointer");
        SCALARS.put("int*", "IntPointer");
        SCALARS.put("void**", "@Cast(\"void**\") LongPointer");
    }

    private static String javaType(String c, String function, List<String> enums, List<String> pointers) {
        if (SCALARS.containsKey(c)) return SCALARS.get(c);
        if (enums.contains(c)) return "@Cast(\"" + c + "\") int";
        if (pointers.contains(c) || c.endsWith("*")) return "@Cast(\"" + c + "\") long";
        throw new IllegalStateException(function + ": no Java type for the parameter type " + c);
    }

    private static String camelCase(String snake) {
        StringBuilder s = new StringBuilder();
        boolean up = false;
        for (char ch : snake.toCharArray()) {
            if (ch == '_') {
                up = true;
            } else {
                s.append(up ? Character.toUpperCase(ch) : ch);
                up = false;
            }
        }
        return s.toString();
    }
}
