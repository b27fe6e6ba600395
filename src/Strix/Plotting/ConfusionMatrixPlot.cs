using System.Globalization;
using ScottPlot;
using Strix.Eval;

namespace Strix.Plotting;

/// <summary>
/// The confusion matrix as a heatmap: true class across, predicted class down, background (detection) last on
/// both axes; cells under 0.005 left blank (as Ultralytics/seaborn), values written in the cells
/// when there are fewer than 30 classes.
/// </summary>
public static class ConfusionMatrixPlot
{
    /// <summary>Writes confusion_matrix.png (counts) and confusion_matrix_normalized.png (per true class) into <paramref name="dir"/>.</summary>
    public static IReadOnlyList<string> SaveBoth(ConfusionMatrix cm, IReadOnlyList<string> names, string dir)
    {
        var files = new[] { Path.Combine(dir, "confusion_matrix_normalized.png"), Path.Combine(dir, "confusion_matrix.png") };
        Save(cm, names, normalize: true, files[0]);
        Save(cm, names, normalize: false, files[1]);
        return files;
    }

    public static void Save(ConfusionMatrix cm, IReadOnlyList<string> names, bool normalize, string path)
    {
        int nc = cm.NumClasses, s = cm.Size;
        var source = normalize ? cm.Normalized() : cm.Matrix;
        var cells = new double[s, s];
        double max = 0;
        for (int i = 0; i < s; i++)
            for (int j = 0; j < s; j++)
            {
                double v = source[i, j];
                cells[i, j] = v < 0.005 ? double.NaN : v;
                if (v > max) max = v;
            }

        // A background-only split with no detections leaves every cell empty (NaN), and ScottPlot cannot take the
        // range of no numbers: one empty-looking 0 (white at the bottom of the scale, no label) keeps the picture valid.
        bool allEmpty = cells.Cast<double>().All(double.IsNaN);
        if (allEmpty) cells[s - 1, s - 1] = 0;

        using var plt = PlotStyle.NewPlot();
        var hm = plt.Add.Heatmap(cells); // row 0 at the top
        hm.ManualRange = new ScottPlot.Range(0, normalize ? 1 : Math.Max(1, max));
        hm.Colormap = new ScottPlot.Colormaps.Blues().Reversed();
        hm.NaNCellColor = Colors.White;
        var bar = plt.Add.ColorBar(hm);

        if (nc < 30)
            for (int i = 0; i < s; i++)
                for (int j = 0; j < s; j++)
                {
                    if (double.IsNaN(cells[i, j]) || allEmpty) continue;
                    var text = cells[i, j].ToString(normalize ? "0.00" : "0", CultureInfo.InvariantCulture);
                    var t = plt.Add.Text(text, j, s - 1 - i);
                    t.LabelAlignment = Alignment.MiddleCenter;
                    t.LabelFontSize = nc < 10 ? 14 : 9;
                    t.LabelFontColor = cells[i, j] / (normalize ? 1 : Math.Max(1, max)) > 0.5 ? Colors.White : Colors.Black;
                }

        bool labels = names.Count == nc && nc < 99;
        var ticks = Enumerable.Range(0, s).Select(i => i == nc ? "background" : labels ? names[i] : i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var pos = Enumerable.Range(0, s).Select(i => (double)i).ToArray();
        float tickFont = s <= 12 ? 12 : s <= 40 ? 9 : 6;
        plt.Axes.Bottom.SetTicks(pos, ticks);
        plt.Axes.Left.SetTicks(pos.Select(p => s - 1 - p).ToArray(), ticks);
        plt.Axes.Bottom.TickLabelStyle.FontSize = tickFont;
        plt.Axes.Left.TickLabelStyle.FontSize = tickFont;
        int longest = ticks.Max(t => t.Length);
        if (s > 12)
        {
            // Many classes: names run downwards under their column.
            plt.Axes.Bottom.TickLabelStyle.Rotation = 90;
            plt.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
            plt.Axes.Bottom.TickLabelStyle.OffsetY = 2;
            plt.Axes.Bottom.MinimumSize = 24 + longest * tickFont * 0.62f;
        }
        plt.Axes.Left.MinimumSize = 16 + longest * tickFont * 0.62f;
        plt.Axes.Bottom.MajorTickStyle.Length = 3;
        plt.Axes.Left.MajorTickStyle.Length = 3;
        plt.Axes.Bottom.MinorTickStyle.Length = 0;
        plt.Axes.Left.MinorTickStyle.Length = 0;
        plt.Grid.IsVisible = false;
        plt.XLabel("True");
        plt.YLabel("Predicted");
        plt.Title(normalize ? "Confusion Matrix Normalized" : "Confusion Matrix");
        plt.Axes.SetLimits(-0.5, s - 0.5, -0.5, s - 0.5);
        PlotStyle.SavePng(plt, path, 1200, 900);
    }
}
