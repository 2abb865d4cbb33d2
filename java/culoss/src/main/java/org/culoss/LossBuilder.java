package org.culoss;

/**
 * The options every loss's builder has: the backend and the reduction. Each loss's
 * {@code Builder} adds its own parameters.
 *
 * @param <B> the loss's builder, which every option returns
 */
abstract class LossBuilder<B extends LossBuilder<B>> {
    Backend backend;
    Reduction reduction;

    /** {@code reduction}: the loss's default, PyTorch's (torchvision's for sigmoid focal). */
    LossBuilder(Reduction reduction) {
        this.reduction = reduction;
    }

    /** The backend to run on; default {@link Culoss#fastest()}. */
    public B backend(Backend backend) {
        this.backend = Checks.notNull(backend, "backend");
        return self();
    }

    /** How the per-sample losses are combined. */
    public B reduction(Reduction reduction) {
        this.reduction = Checks.notNull(reduction, "reduction");
        return self();
    }

    @SuppressWarnings("unchecked")
    B self() {
        return (B) this;
    }
}
