using System.Globalization;
using System.Text;
using Strix.Data;
using Strix.Plotting;

namespace Strix.Inference;

/// <summary>Milliseconds per image spent in each prediction stage.</summary>
public readonly record struct Speed(double Preprocess, double Inference, double Postprocess);

/// <summary>
/// The detections for one image, in original-image pixels, with Ultralytics' accessors
/// (xyxy, xywh and their normalised forms, conf, cls) plus a list of <see cref="Detection"/>s.
/// </summary>
public sealed class Results
{
    public Results(string? path, int origHeight, int origWidth, IReadOnlyList<string> names,
        IReadOnlyList<Detection> detections, Speed speed, RgbImage? origImage = null)
    {
        Path = path; OrigHeight = origHeight; OrigWidth = origWidth; Names = names;
        Detections = detections; Speed = speed; OrigImage = origImage;
    }

    /// <summary>Source file, or null for in-memory images.</summary>
    public string? Path { get; }
    public int OrigHeight { get; }
    public int OrigWidth { get; }
    /// <summary>(height, width), as Ultralytics' orig_shape.</summary>
    public (int Height, int Width) OrigShape => (OrigHeight, OrigWidth);
    public IReadOnlyList<string> Names { get; }
    /// <summary>Detections sorted by confidence, highest first.</summary>
    public IReadOnlyList<Detection> Detections { get; }
    public Speed Speed { get; }
    /// <summary>The decoded source image (kept so results can be drawn).</summary>
    public RgbImage? OrigImage { get; }

    public int Count => Detections.Count;

    /// <summary>[n, 4] corners in pixels.</summary>
    public float[][] Xyxy => Detections.Select(d => new[] { d.Box.X1, d.Box.Y1, d.Box.X2, d.Box.Y2 }).ToArray();
    /// <summary>[n, 4] centre, width, height in pixels.</summary>
    public float[][] Xywh => Detections.Select(d => new[] { d.Box.CenterX, d.Box.CenterY, d.Box.Width, d.Box.Height }).ToArray();
    /// <summary>[n, 4] corners normalised by the image size.</summary>
    public float[][] XyxyN => Detections.Select(d => new[] { d.Box.X1 / OrigWidth, d.Box.Y1 / OrigHeight, d.Box.X2 / OrigWidth, d.Box.Y2 / OrigHeight }).ToArray();
    /// <summary>[n, 4] centre, width, height normalised by the image size (YOLO label format).</summary>
    public float[][] XywhN => Detections.Select(d => new[] { d.Box.CenterX / OrigWidth, d.Box.CenterY / OrigHeight, d.Box.Width / OrigWidth, d.Box.Height / OrigHeight }).ToArray();
    public float[] Conf => Detections.Select(d => d.Confidence).ToArray();
    public int[] Cls => Detections.Select(d => d.ClassId).ToArray();

    /// <summary>YOLO-format label lines: <c>cls cx cy w h [conf]</c>, normalised.</summary>
    public string ToTxt(bool saveConf = false)
    {
        var sb = new StringBuilder();
        foreach (var d in Detections)
        {
            sb.Append(string.Create(CultureInfo.InvariantCulture,
                $"{d.ClassId} {d.Box.CenterX / OrigWidth:0.######} {d.Box.CenterY / OrigHeight:0.######} {d.Box.Width / OrigWidth:0.######} {d.Box.Height / OrigHeight:0.######}"));
            if (saveConf) sb.Append(string.Create(CultureInfo.InvariantCulture, $" {d.Confidence:0.######}"));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>"2 persons, 1 bus" — the per-image summary Ultralytics prints.</summary>
    public string Summary()
    {
        if (Count == 0) return "(no detections)";
        return string.Join(", ", Detections.GroupBy(d => d.ClassId).OrderBy(g => g.Key)
            .Select(g => $"{g.Count()} {g.First().ClassName}{(g.Count() > 1 ? "s" : "")}"));
    }

    /// <summary>The original image with boxes and labels drawn.</summary>
    public RgbImage Plot(bool labels = true, bool conf = true)
    {
        if (OrigImage is null) throw new InvalidOperationException("these results hold no image to draw on");
        return Annotator.Draw(OrigImage, Detections.Select(d => new DrawnBox(d.Box.X1, d.Box.Y1, d.Box.X2, d.Box.Y2, d.ClassId,
            !labels ? null : conf ? $"{d.ClassName} {d.Confidence:0.00}" : d.ClassName, d.Confidence)));
    }

    /// <summary>Draws and saves to <paramref name="path"/> (JPEG/PNG by extension), atomically.</summary>
    public void Save(string path) => ImageIO.Save(Plot(), path);
}
