/**
 * culoss: fused loss kernels for Java. The API is {@code org.culoss}; the binding and the
 * pure-Java kernels in {@code org.culoss.internal} are not exported (JavaCPP reads the binding's
 * annotations and loads its JNI library from that package, so it is opened to JavaCPP alone).
 */
module org.culoss {
    requires org.bytedeco.javacpp;

    exports org.culoss;

    opens org.culoss.internal to org.bytedeco.javacpp;
}
