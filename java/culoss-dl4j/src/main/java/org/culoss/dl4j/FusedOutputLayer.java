package org.culoss.dl4j;

import java.util.Collection;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * DL4J's dense {@link OutputLayer}, whose training step takes the loss's score and gradient from
 * one {@link ILossFunction#computeGradientAndScore} call instead of DL4J's two
 * ({@code computeGradient} in backprop, {@code computeScore} after it): with a culoss loss, one
 * fused pass over the outputs per step. Everything else (parameters, initialisation,
 * serialisation, evaluation) is {@code OutputLayer}'s; any loss works, a DL4J one as before.
 *
 * <pre>{@code
 * .layer(new FusedOutputLayer.Builder(new CulossSoftmaxCrossEntropy())
 *         .nIn(128).nOut(10).activation(Activation.SOFTMAX).build())
 * }</pre>
 */
public class FusedOutputLayer extends OutputLayer {
    private static final long serialVersionUID = 1L;

    /** For deserialisation. */
    public FusedOutputLayer() {}

    protected FusedOutputLayer(Builder builder) {
        super(builder);
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> trainingListeners,
            int layerIndex, INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        LayerValidation.assertNInNOutSet("FusedOutputLayer", getLayerName(), layerIndex, getNIn(), getNOut());
        return LayerSetup.attach(new FusedOutputLayerImpl(conf, networkDataType), conf, trainingListeners, layerIndex,
                layerParamsView, initializeParams, initializer());
    }

    // OutputLayer's equals (Lombok's) would take a FusedOutputLayer for an OutputLayer
    @Override
    protected boolean canEqual(Object other) {
        return other instanceof FusedOutputLayer;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FusedOutputLayer && super.equals(o);
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + 1;
    }

    /** {@code OutputLayer.Builder}'s options; softmax cross-entropy and a softmax activation by default. */
    public static class Builder extends OutputLayer.Builder {
        public Builder() {
            this(new CulossSoftmaxCrossEntropy());
        }

        public Builder(ILossFunction loss) {
            super(loss);
            setActivationFn(new ActivationSoftmax());
        }

        @Override
        @SuppressWarnings("unchecked")
        public FusedOutputLayer build() {
            return new FusedOutputLayer(this);
        }
    }
}
