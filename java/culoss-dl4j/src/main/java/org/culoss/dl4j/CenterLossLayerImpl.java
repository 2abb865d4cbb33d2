package org.culoss.dl4j;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.culoss.CenterLoss;
import org.culoss.Culoss;
import org.culoss.Reduction;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.training.CenterLossOutputLayer;
import org.deeplearning4j.nn.params.CenterLossParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The layer a {@link CenterLossLayer} configuration makes: DL4J's center-loss output layer's
 * backprop and score, computed by one call of the classification loss and one of culoss's center
 * loss per training step (the score is kept for the step's score call, as in
 * {@link FusedOutputLayerImpl}).
 */
public class CenterLossLayerImpl extends CenterLossOutputLayer {
    private static final long serialVersionUID = 1L;

    private final transient KeptScore kept = new KeptScore();
    private transient CenterLoss centerLoss;

    public CenterLossLayerImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    private org.deeplearning4j.nn.conf.layers.CenterLossOutputLayer options() {
        return (org.deeplearning4j.nn.conf.layers.CenterLossOutputLayer) conf().getLayer();
    }

    private CenterLoss centerLoss() {
        if (centerLoss == null) {
            centerLoss = CenterLoss.builder().backend(Culoss.java()).reduction(Reduction.SUM)
                    .lambda((float) options().getLambda()).alpha((float) options().getAlpha()).build();
        }
        return centerLoss;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        INDArray preOut = preOutput2d(true, workspaceMgr);
        Pair<Double, INDArray> scoreAndDelta = options().getLossFn().computeGradientAndScore(labels, preOut,
                options().getActivationFn(), maskArray, false);
        INDArray delta = scoreAndDelta.getSecond();

        // the center loss, its feature gradient and the centers' step, from culoss
        FloatBuffer features = NdArrays.read(input);
        INDArray centers = params.get(CenterLossParamInitializer.CENTER_KEY);
        int n = Math.toIntExact(input.size(0));
        int d = Math.toIntExact(input.size(1));
        int c = Math.toIntExact(centers.size(0));
        IntBuffer classes = IntBuffer.wrap(ClassLabels.of(labels, c, "CenterLossLayer"));
        float[] centerValues = NdArrays.toFloats(centers);
        float[] intra = new float[1];
        NdArrays.Output featureGrad = NdArrays.output(n, d);
        boolean gradientCheck = options().getGradientCheck();
        float[] centerStep = gradientCheck ? new float[centerValues.length] : centerValues.clone();
        CenterLoss loss = centerLoss();
        loss.forwardBackward(features, classes, FloatBuffer.wrap(centerValues), n, d, c, null,
                FloatBuffer.wrap(intra), featureGrad.buffer, gradientCheck ? FloatBuffer.wrap(centerStep) : null);
        if (gradientCheck) {
            // DL4J's gradient-check form: alpha * dL/dc = alpha lambda sum (c_j - x_i)
            for (int k = 0; k < centerStep.length; k++) centerStep[k] *= (float) options().getAlpha();
        } else {
            // the paper's step, as the difference the update makes: c - c'
            loss.updateCenters(features.duplicate(), classes, FloatBuffer.wrap(centerStep), n, d, c);
            for (int k = 0; k < centerStep.length; k++) centerStep[k] = centerValues[k] - centerStep[k];
        }
        kept.keep(scoreAndDelta.getFirst() + intra[0], input, labels, maskArray);

        Gradient gradient = new DefaultGradient();
        INDArray weightGrad = gradientViews.get(CenterLossParamInitializer.WEIGHT_KEY);
        INDArray biasGrad = gradientViews.get(CenterLossParamInitializer.BIAS_KEY);
        INDArray centersGrad = gradientViews.get(CenterLossParamInitializer.CENTER_KEY);
        centersGrad.assign(Nd4j.create(centerStep, centersGrad.shape(), 'c'));
        Nd4j.gemm(input, delta, weightGrad, true, false, 1.0, 0.0);
        delta.sum(biasGrad, 0);
        gradient.gradientForVariable().put(CenterLossParamInitializer.WEIGHT_KEY, weightGrad);
        gradient.gradientForVariable().put(CenterLossParamInitializer.BIAS_KEY, biasGrad);
        gradient.gradientForVariable().put(CenterLossParamInitializer.CENTER_KEY, centersGrad);

        INDArray w = getParamWithNoise(CenterLossParamInitializer.WEIGHT_KEY, true, workspaceMgr);
        INDArray epsilonNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, w.dataType(),
                new long[] {w.size(0), delta.size(0)}, 'f');
        epsilonNext = w.mmuli(delta.transpose(), epsilonNext).transpose();
        epsilonNext.addi(featureGrad.array().castTo(epsilonNext.dataType()));
        weightNoiseParams.clear();
        return new Pair<>(gradient, epsilonNext);
    }

    @Override
    public double computeScore(double fullNetRegTerm, boolean training, LayerWorkspaceMgr workspaceMgr) {
        double s = kept.take(input, labels, maskArray);
        if (Double.isNaN(s)) return super.computeScore(fullNetRegTerm, training, workspaceMgr);
        score = s / getInputMiniBatchSize() + fullNetRegTerm;
        return score;
    }
}
