using System.Globalization;

namespace Strix.Engine.Yolo;

/// <summary><c>results.png</c>: one small panel per column of <c>results.csv</c> against the epoch, as Ultralytics draws it.</summary>
public static class ResultsPlot
{
    static readonly string[] Panels =
    {
        "train/box_loss", "train/cls_loss", "train/dfl_loss", "metrics/precision(B)", "metrics/recall(B)",
        "val/box_loss", "val/cls_loss", "val/dfl_loss", "metrics/mAP50(B)", "metrics/mAP50-95(B)",
    };

    public static void Plot(string csvPath, string pngPath)
    {
        var lines = File.ReadAllLines(csvPath).Where(l => l.Trim().Length > 0).ToList();
        if (lines.Count < 2) return;
        var header = lines[0].Split(',').Select(h => h.Trim()).ToList();
        var rows = lines.Skip(1).Select(l => l.Split(',').Select(v => double.TryParse(v.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN).ToArray()).ToList();
        int epochCol = header.IndexOf("epoch");
        var x = rows.Select((r, i) => epochCol >= 0 ? r[epochCol] : i + 1).ToArray();
        const int cols = 5, rowsN = 2, w = 400, h = 300;
        var panels = Panels.Where(header.Contains).ToList();
        using var surface = SkiaSharp.SKSurface.Create(new SkiaSharp.SKImageInfo(cols * w, rowsN * h));
        var canvas = surface.Canvas;
        canvas.Clear(SkiaSharp.SKColors.White);
        for (int p = 0; p < panels.Count && p < cols * rowsN; p++)
        {
            int c = header.IndexOf(panels[p]);
            var y = rows.Select(r => c < r.Length ? r[c] : double.NaN).ToArray();
            var plt = new ScottPlot.Plot();
            var keep = Enumerable.Range(0, x.Length).Where(i => !double.IsNaN(y[i])).ToArray();
            if (keep.Length > 0)
            {
                var line = plt.Add.Scatter(keep.Select(i => x[i]).ToArray(), keep.Select(i => y[i]).ToArray());
                line.LegendText = "results";
                line.MarkerSize = 5;
                if (keep.Length >= 3)
                {
                    var smooth = Smooth(keep.Select(i => y[i]).ToArray());
                    var s = plt.Add.Scatter(keep.Select(i => x[i]).ToArray(), smooth);
                    s.LegendText = "smooth";
                    s.LineStyle.Pattern = ScottPlot.LinePattern.Dotted;
                    s.MarkerSize = 0;
                }
            }
            plt.Title(panels[p]);
            plt.XLabel("epoch");
            var img = plt.GetImage(w, h);
            using var bmp = SkiaSharp.SKBitmap.Decode(img.GetImageBytes());
            canvas.DrawBitmap(bmp, p % cols * w, p / cols * h);
        }
        using var snap = surface.Snapshot();
        using var data = snap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        AtomicFile.WriteAllBytes(pngPath, data.ToArray());
    }

    /// <summary>A centred moving average over about 5% of the points (at least 3).</summary>
    static double[] Smooth(double[] y)
    {
        int k = Math.Max(3, y.Length / 20) | 1, r = k / 2;
        return Enumerable.Range(0, y.Length).Select(i =>
        {
            int a = Math.Max(0, i - r), b = Math.Min(y.Length - 1, i + r);
            return y[a..(b + 1)].Average();
        }).ToArray();
    }
}
