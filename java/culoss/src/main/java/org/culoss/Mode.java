package org.culoss;

/**
 * Which of an operation's native entry points a call takes, read from the outputs it was given:
 * the loss alone is the forward, gradients alone the backward, both the fused pass. An operation
 * with one entry point (the center update) ignores it.
 */
enum Mode {
    FORWARD("Forward"),
    BACKWARD("Backward"),
    FORWARD_BACKWARD("ForwardBackward");

    /** The suffix of the C entry point: {@code culossSmoothL1} + {@code Forward}. */
    final String suffix;

    Mode(String suffix) {
        this.suffix = suffix;
    }

    boolean forward() {
        return this != BACKWARD;
    }
}
