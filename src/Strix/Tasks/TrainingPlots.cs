using Strix.Engine;
using ScottPlot;
using SkiaSharp;
using Strix.Plotting;
using Strix.Data;
using Strix.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Tasks;

/// <summary>Ultralytics' training pictures: <c>train_batch0..2.jpg</c> and <c>results.png</c>.</summary>
public sealed class TrainingPlots : Callback
{
    readonly string _dir;
    readonly IReadOnlyList<string> _names;

    public TrainingPlots(string runDir, IReadOnlyList<string> names) { _dir = runDir; _names = names; }

    /// <summary>The first three training batches of the run (global iterations 0, 1, 2), boxes drawn.</summary>
    public override void OnTrainBatchStart(Trainer trainer, StrixModule module, object? batch, int batchIdx)
    {
        if (trainer.FastDevRun || trainer.Iteration > 2 || batch is not Batch b) return;
        var path = Path.Combine(_dir, $"train_batch{trainer.Iteration}.jpg");
        if (b.Images.device.type == DeviceType.CPU) { DataPlots.PlotBatch(b, _names, path); return; }
        using var cpu = b.To(CPU);
        DataPlots.PlotBatch(cpu, _names, path);
    }

    public override void OnFitEnd(Trainer trainer, StrixModule module)
    {
        var csv = Path.Combine(_dir, "results.csv");
        if (!trainer.FastDevRun && File.Exists(csv)) SaveResults(csv, Path.Combine(_dir, "results.png"));
    }

    /// <summary>
    /// results.png from results.csv: one panel per column (losses, precision, recall, mAP), the raw
    /// values as markers with a line, and a smoothed curve as Ultralytics draws it.
    /// </summary>
    public static void SaveResults(string csvPath, string pngPath)
    {
        var lines = File.ReadAllLines(csvPath).Where(l => l.Trim().Length > 0).ToArray();
        if (lines.Length < 2) return;
        var header = lines[0].Split(',');
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToArray();
        double[] Col(int c) => rows.Select(r => c < r.Length && double.TryParse(r[c], System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : double.NaN).ToArray();
        var epochs = Col(0);
        string[] panels =
        {
            "train/box_loss", "train/cls_loss", "train/dfl_loss", "metrics/precision(B)", "metrics/recall(B)",
            "val/box_loss", "val/cls_loss", "val/dfl_loss", "metrics/mAP50(B)", "metrics/mAP50-95(B)",
        };
        // A segmentation run (Ultralytics' layout, two rows of eight): train losses, then P and R of boxes and masks;
        // val losses, then mAP50 and mAP50-95 of boxes and masks.
        string[] segPanels =
        {
            "train/box_loss", "train/seg_loss", "train/cls_loss", "train/dfl_loss",
            "metrics/precision(B)", "metrics/recall(B)", "metrics/precision(M)", "metrics/recall(M)",
            "val/box_loss", "val/seg_loss", "val/cls_loss", "val/dfl_loss",
            "metrics/mAP50(B)", "metrics/mAP50-95(B)", "metrics/mAP50(M)", "metrics/mAP50-95(M)",
        };
        bool seg = Array.IndexOf(header, "metrics/mAP50-95(M)") > 0;
        var chosen = (seg ? segPanels : panels).Where(p => Array.IndexOf(header, p) > 0).ToList();
        if (chosen.Count == 0) chosen = header.Skip(1).Take(10).ToList();
        const int W = 480, H = 360;
        int cols = seg ? 8 : 5;
        int rowsN = (chosen.Count + cols - 1) / cols;
        using var surface = SKSurface.Create(new SKImageInfo(cols * W, rowsN * H));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        for (int k = 0; k < chosen.Count; k++)
        {
            var ys = Col(Array.IndexOf(header, chosen[k]));
            var keep = Enumerable.Range(0, ys.Length).Where(i => double.IsFinite(ys[i])).ToArray();
            using var plt = new Plot();
            var sc = plt.Add.Scatter(keep.Select(i => epochs[i]).ToArray(), keep.Select(i => ys[i]).ToArray());
            sc.LegendText = "results";
            sc.MarkerSize = 6;
            if (keep.Length >= 3)
            {
                var smooth = Smooth(keep.Select(i => ys[i]).ToArray());
                var line = plt.Add.Scatter(keep.Select(i => epochs[i]).ToArray(), smooth);
                line.LegendText = "smooth";
                line.MarkerSize = 0;
                line.LinePattern = LinePattern.Dotted;
            }
            plt.Title(chosen[k]);
            plt.ShowLegend();
            // Losses fall and metrics rise: put the legend where the curve is not.
            plt.Legend.Alignment = chosen[k].Contains("loss") ? Alignment.UpperRight : Alignment.LowerRight;
            var img = plt.GetImage(W, H);
            using var data = SKData.CreateCopy(img.GetImageBytes(ImageFormat.Png));
            using var bmp = SKBitmap.Decode(data);
            canvas.DrawBitmap(bmp, (k % cols) * W, (k / cols) * H);
        }
        using var snap = surface.Snapshot();
        using var png = snap.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.WriteAllBytes(pngPath, png.ToArray());
    }

    /// <summary>Gaussian-weighted moving average (σ ≈ n/20, at least 1 sample), like Ultralytics' smoothing.</summary>
    static double[] Smooth(double[] y)
    {
        double sigma = Math.Max(1.0, y.Length / 20.0);
        int r = (int)Math.Ceiling(3 * sigma);
        var o = new double[y.Length];
        for (int i = 0; i < y.Length; i++)
        {
            double s = 0, wsum = 0;
            for (int j = Math.Max(0, i - r); j <= Math.Min(y.Length - 1, i + r); j++)
            {
                double wgt = Math.Exp(-0.5 * (i - j) * (i - j) / (sigma * sigma));
                s += wgt * y[j]; wsum += wgt;
            }
            o[i] = s / wsum;
        }
        return o;
    }
}
