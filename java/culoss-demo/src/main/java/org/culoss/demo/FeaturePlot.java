package org.culoss.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A scatter plot of two-dimensional features by class, as in Figure 2 of Wen et al. (center
 * loss): one colour per class, written as a PNG.
 */
final class FeaturePlot {
    private FeaturePlot() {}

    static Path write(Path dir, String file, String title, float[][] features, int[] labels, String[] classNames)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(720).height(720).title(title).xAxisTitle("feature 1")
                .yAxisTitle("feature 2").build();
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(3);
        chart.getStyler().setChartTitleFont(chart.getStyler().getChartTitleFont().deriveFont(14f));
        for (int k = 0; k < classNames.length; k++) {
            int count = 0;
            for (int label : labels) if (label == k) count++;
            if (count == 0) continue;
            double[] x = new double[count];
            double[] y = new double[count];
            for (int i = 0, j = 0; i < labels.length; i++) {
                if (labels[i] != k) continue;
                x[j] = features[i][0];
                y[j++] = features[i][1];
            }
            chart.addSeries(classNames[k], x, y).setMarker(SeriesMarkers.CIRCLE);
        }
        Files.createDirectories(dir);
        Path out = dir.resolve(file);
        BitmapEncoder.saveBitmap(chart, out.toString(), BitmapEncoder.BitmapFormat.PNG);
        return out;
    }
}
