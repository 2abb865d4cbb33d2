package org.culoss.dl4j;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.OutputLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The layer a {@link FusedOutputLayer} configuration makes: DL4J's {@code OutputLayer} with the
 * loss called once per training step. A network's step calls {@link #backpropGradient} and then
 * {@link #computeScore} on the same input and labels; backprop takes the score from the fused
 * call and the score call that follows uses it (once, and only for the same input, labels and
 * mask objects); any other score call computes it as {@code OutputLayer} does.
 */
public class FusedOutputLayerImpl extends OutputLayer {
    private static final long serialVersionUID = 1L;

    private final transient KeptScore kept = new KeptScore();

    public FusedOutputLayerImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        Pair<Gradient, INDArray> pair = gradientsAndDelta(preOutput2d(true, workspaceMgr), workspaceMgr);
        INDArray delta = pair.getSecond();
        // as OutputLayer: the gradient of the layer's input, W delta^T, transposed
        INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, true, workspaceMgr);
        INDArray epsilonNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, delta.dataType(),
                new long[] {w.size(0), delta.size(0)}, 'f');
        epsilonNext = w.mmuli(delta.transpose(), epsilonNext).transpose();
        epsilonNext = backpropDropOutIfPresent(epsilonNext);
        return new Pair<>(pair.getFirst(), epsilonNext);
    }

    @Override
    public double computeScore(double fullNetRegTerm, boolean training, LayerWorkspaceMgr workspaceMgr) {
        double s = kept.take(input, labels, maskArray);
        if (Double.isNaN(s)) return super.computeScore(fullNetRegTerm, training, workspaceMgr);
        if (conf().isMiniBatch()) s /= getInputMiniBatchSize();
        score = s + fullNetRegTerm;
        return score;
    }

    /** OutputLayer's gradients and delta, with the loss's score from the same call. */
    private Pair<Gradient, INDArray> gradientsAndDelta(INDArray preOut, LayerWorkspaceMgr workspaceMgr) {
        INDArray labels2d = getLabels2d(workspaceMgr, ArrayType.BP_WORKING_MEM);
        Pair<Double, INDArray> scoreAndDelta = layerConf().getLossFn().computeGradientAndScore(labels2d, preOut,
                layerConf().getActivationFn(), maskArray, false);
        kept.keep(scoreAndDelta.getFirst(), input, labels, maskArray);
        INDArray delta = scoreAndDelta.getSecond();

        Gradient gradient = new DefaultGradient();
        INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
        Nd4j.gemm(input.castTo(weightGrad.dataType()), delta, weightGrad, true, false, 1.0, 0.0);
        gradient.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
        if (hasBias()) {
            INDArray biasGrad = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
            delta.sum(biasGrad, 0);
            gradient.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGrad);
        }
        delta = workspaceMgr.leverageTo(ArrayType.ACTIVATION_GRAD, delta);
        return new Pair<>(gradient, delta);
    }
}
