package org.culoss.dl4j;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DL4J's two spellings of class labels as culoss's int32 class indices: a column of indices
 * {@code [N, 1]} (as {@code LossSparseMCXENT} takes them) or one-hot rows {@code [N, C]}. Every
 * label is checked; a bad one is refused naming its row.
 */
final class ClassLabels {
    private ClassLabels() {}

    /** The labels are a column of class indices rather than one value per class. */
    static boolean isColumn(INDArray labels, int classes) {
        return labels.rank() == 2 && labels.size(1) == 1 && classes != 1;
    }

    /** Class indices from either spelling; {@code who} names the loss or layer in a refusal. */
    static int[] of(INDArray labels, int classes, String who) {
        return isColumn(labels, classes) ? fromColumn(labels, classes, who) : fromOneHot(labels, classes, who);
    }

    static int[] fromColumn(INDArray labels, int classes, String who) {
        float[] column = NdArrays.toFloats(labels);
        int[] out = new int[column.length];
        for (int i = 0; i < column.length; i++) {
            float v = column[i];
            if (!(v >= 0 && v < classes) || v != Math.rint(v))
                throw new IllegalArgumentException(who + ": labels row " + i + " is " + v + ", not a class index in [0, "
                        + classes + ")");
            out[i] = (int) v;
        }
        return out;
    }

    static int[] fromOneHot(INDArray labels, int classes, String who) {
        checkRows(labels, classes, who);
        int n = Math.toIntExact(labels.size(0));
        float[] rows = NdArrays.toFloats(labels);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int hot = -1;
            for (int j = 0; j < classes; j++) {
                float v = rows[i * classes + j];
                if (v == 1f && hot == -1) hot = j;
                else if (v != 0f) {
                    hot = -2;
                    break;
                }
            }
            if (hot < 0)
                throw new IllegalArgumentException(who + ": labels row " + i + " is not one-hot: this loss takes classes,"
                        + " as one-hot rows or a column of class indices [minibatch, 1]");
            out[i] = hot;
        }
        return out;
    }

    /** Labels one per class: [N, classes]. */
    static void checkRows(INDArray labels, int classes, String who) {
        if (labels.rank() != 2 || labels.size(1) != classes)
            throw new IllegalArgumentException(who + ": labels must be [minibatch, 1] class indices or [minibatch, "
                    + classes + "] rows over the classes, got shape " + Arrays.toString(labels.shape()));
    }
}
