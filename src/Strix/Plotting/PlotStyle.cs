using ScottPlot;
using Strix.IO;

namespace Strix.Plotting;

/// <summary>Shared look of the validation plots and the one way they reach disk (atomically).</summary>
internal static class PlotStyle
{
    /// <summary>Rendering scale: plots are laid out in logical pixels and rendered this many times larger.</summary>
    public const float Scale = 2f;

    public static Plot NewPlot()
    {
        var plt = new Plot { ScaleFactor = Scale };
        if (SansFamily is { } family) plt.Font.Set(family);
        return plt;
    }

    /// <summary>A sans-serif family installed on this machine, or null to keep ScottPlot's default.</summary>
    static readonly string? SansFamily = FindSans();

    static string? FindSans()
    {
        try
        {
            var installed = new HashSet<string>(SkiaSharp.SKFontManager.Default.GetFontFamilies(), StringComparer.OrdinalIgnoreCase);
            return new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Segoe UI", "Noto Sans", "Open Sans" }.FirstOrDefault(installed.Contains);
        }
        catch (Exception) { return null; } // font discovery is cosmetic; never fail a validation over it
    }

    /// <summary>Unit axes with ticks every 0.1, as metric-vs-confidence and PR plots need.</summary>
    public static void UnitAxes(Plot plt, string xLabel, string yLabel, string title)
    {
        plt.XLabel(xLabel);
        plt.YLabel(yLabel);
        plt.Title(title);
        plt.Axes.SetLimits(0, 1, 0, 1);
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(0.1);
        plt.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(0.1);
    }

    /// <summary>Renders to PNG and writes it via a temporary file, so a crash never leaves half an image.</summary>
    public static void SavePng(Plot plt, string path, int width, int height)
    {
        var bytes = plt.GetImageBytes((int)(width * Scale), (int)(height * Scale), ImageFormat.Png);
        AtomicFile.WriteAllBytes(path, bytes);
    }
}
