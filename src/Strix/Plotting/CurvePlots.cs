using System.Globalization;
using ScottPlot;
using Strix.Eval;

namespace Strix.Plotting;

/// <summary>The four curve plots of a validation run, drawn the way Ultralytics users read them.</summary>
public static class CurvePlots
{
    /// <summary>Above this many classes, per-class curves are drawn grey without a legend entry.</summary>
    const int MaxLegendClasses = 20;
    const int Width = 900, Height = 600;

    /// <summary>
    /// Writes PR_curve.png, F1_curve.png, P_curve.png and R_curve.png into <paramref name="dir"/>, their names after
    /// <paramref name="prefix"/> (segmentation writes Box… and Mask…, as Ultralytics); returns their paths.
    /// </summary>
    public static IReadOnlyList<string> SaveAll(DetectionResults results, string dir, string prefix = "")
    {
        var files = new[]
        {
            Path.Combine(dir, $"{prefix}PR_curve.png"), Path.Combine(dir, $"{prefix}F1_curve.png"),
            Path.Combine(dir, $"{prefix}P_curve.png"), Path.Combine(dir, $"{prefix}R_curve.png"),
        };
        SavePrCurve(results, files[0]);
        SaveMetricCurve(results, MetricCurve.F1, files[1]);
        SaveMetricCurve(results, MetricCurve.Precision, files[2]);
        SaveMetricCurve(results, MetricCurve.Recall, files[3]);
        return files;
    }

    /// <summary>Which per-class curve <see cref="SaveMetricCurve"/> draws against confidence.</summary>
    public enum MetricCurve { F1, Precision, Recall }

    /// <summary>
    /// Precision (the IoU-0.5 envelope) against recall: a thin line per class that has predictions,
    /// labelled with its AP50, and their mean in bold blue labelled with mAP@0.5.
    /// </summary>
    public static void SavePrCurve(DetectionResults results, string path)
    {
        var c = results.Curves;
        using var plt = PlotStyle.NewPlot();
        bool legend = c.PrCurve.Length is > 0 and <= MaxLegendClasses;
        for (int k = 0; k < c.PrCurve.Length; k++)
        {
            int row = c.PrCurveRows[k];
            var line = AddLine(plt, c.X, c.PrCurve[k], 1);
            if (legend) line.LegendText = $"{results.Names[c.Classes[row]]} {F(results.Ap50[row], 3)}";
            else line.Color = Colors.Gray.WithAlpha(0.6);
        }
        var mean = AveragePrecision.MeanOverRows(c.PrCurve, c.X.Length);
        var all = AddLine(plt, c.X, mean, 3);
        all.Color = Colors.Blue;
        all.LegendText = $"all classes {F(results.Map50, 3)} mAP@0.5";
        PlotStyle.UnitAxes(plt, "Recall", "Precision", "Precision-Recall Curve");
        plt.ShowLegend(Edge.Right);
        PlotStyle.SavePng(plt, path, Width, Height);
    }

    /// <summary>
    /// F1, precision or recall against confidence: a thin line per class and the class mean
    /// (smoothed, bold blue) labelled with its maximum and where it occurs.
    /// </summary>
    public static void SaveMetricCurve(DetectionResults results, MetricCurve which, string path)
    {
        var c = results.Curves;
        var rows = which switch { MetricCurve.F1 => c.F1Curve, MetricCurve.Precision => c.PrecisionCurve, _ => c.RecallCurve };
        string label = which switch { MetricCurve.F1 => "F1", MetricCurve.Precision => "Precision", _ => "Recall" };
        using var plt = PlotStyle.NewPlot();
        bool legend = rows.Length is > 0 and <= MaxLegendClasses;
        for (int r = 0; r < rows.Length; r++)
        {
            var line = AddLine(plt, c.X, rows[r], 1);
            if (legend) line.LegendText = results.Names[c.Classes[r]];
            else line.Color = Colors.Gray.WithAlpha(0.6);
        }
        var mean = AveragePrecision.Smooth(AveragePrecision.MeanOverRows(rows, c.X.Length), 0.05);
        int best = AveragePrecision.ArgMax(mean);
        var all = AddLine(plt, c.X, mean, 3);
        all.Color = Colors.Blue;
        all.LegendText = $"all classes {F(mean[best], 2)} at {F(c.X[best], 3)}";
        PlotStyle.UnitAxes(plt, "Confidence", label, $"{label}-Confidence Curve");
        plt.ShowLegend(Edge.Right);
        PlotStyle.SavePng(plt, path, Width, Height);
    }

    static ScottPlot.Plottables.Scatter AddLine(Plot plt, double[] x, double[] y, float width)
    {
        var s = plt.Add.ScatterLine(x, y);
        s.LineWidth = width;
        s.MarkerSize = 0;
        return s;
    }

    static string F(double v, int decimals) => v.ToString("F" + decimals, CultureInfo.InvariantCulture);
}
