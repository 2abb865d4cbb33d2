package org.culoss.dl4j;

import java.util.Collection;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.CenterLossOutputLayer;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * DL4J's {@link CenterLossOutputLayer} (Wen et al. 2016: a classification loss on {@code W x + b}
 * plus {@code lambda / 2 ||x - c_y||^2} on the layer's input features {@code x}, with class
 * centers {@code c} moved by {@code alpha}) with culoss doing the work: the classification loss
 * in one fused call (a culoss loss, softmax cross-entropy by default) and the center loss, its
 * feature gradient and the centers' step in culoss's center-loss kernels, once per training step.
 *
 * <p>The same parameters, options and training as DL4J's layer, so that a model moves between
 * them: the centers' step is {@code alpha sum_{y_i = j} (c_j - x_i) / (1 + n_j)}, which DL4J's
 * updater divides by the minibatch size as it does every gradient ({@code gradientCheck(true)}:
 * {@code alpha lambda sum (c_j - x_i)}, DL4J's gradient-check form). Labels are one-hot rows or
 * a column of class indices.
 */
public class CenterLossLayer extends CenterLossOutputLayer {
    private static final long serialVersionUID = 1L;

    /** For deserialisation. */
    public CenterLossLayer() {}

    protected CenterLossLayer(Builder builder) {
        super(builder);
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> trainingListeners,
            int layerIndex, INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        LayerValidation.assertNInNOutSet("CenterLossLayer", getLayerName(), layerIndex, getNIn(), getNOut());
        return LayerSetup.attach(new CenterLossLayerImpl(conf, networkDataType), conf, trainingListeners, layerIndex,
                layerParamsView, initializeParams, initializer());
    }

    @Override
    protected boolean canEqual(Object other) {
        return other instanceof CenterLossLayer;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CenterLossLayer && super.equals(o);
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + 2;
    }

    /** {@code CenterLossOutputLayer.Builder}'s options; culoss's softmax cross-entropy by default. */
    public static class Builder extends CenterLossOutputLayer.Builder {
        public Builder() {
            this(new CulossSoftmaxCrossEntropy());
        }

        public Builder(ILossFunction loss) {
            super(loss);
            setActivationFn(new ActivationSoftmax());
        }

        @Override
        @SuppressWarnings("unchecked")
        public CenterLossLayer build() {
            return new CenterLossLayer(this);
        }
    }
}
