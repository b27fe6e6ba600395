using System.Globalization;
using System.Text;

namespace Strix.Eval;

/// <summary>
/// The validation table in Ultralytics' layout: a header
/// <c>Class Images Instances P R mAP50 mAP50-95</c>, an <c>all</c> row, then one row per class that
/// has ground truth (images containing the class, its instances, its P, R, AP50, AP50-95).
/// </summary>
public static class MetricsTable
{
    const string RowFormat = "{0,22}{1,11}{2,11}{3,11}{4,11}{5,11}{6,11}";

    public static string Header() =>
        string.Format(CultureInfo.InvariantCulture, RowFormat, "Class", "Images", "Instances", "P", "R", "mAP50", "mAP50-95");

    /// <summary>The header, the <c>all</c> row and, when <paramref name="perClass"/>, a row per class; lines end with '\n'.</summary>
    public static string Format(DetectionResults r, bool perClass = true)
    {
        var sb = new StringBuilder();
        sb.Append(Header()).Append('\n');
        sb.Append(Row("all", r.Images, r.Instances, r.MeanPrecision, r.MeanRecall, r.Map50, r.Map)).Append('\n');
        if (perClass)
            for (int row = 0; row < r.ClassIndex.Count; row++)
            {
                int c = r.ClassIndex[row];
                sb.Append(Row(r.Names[c], r.ImagesPerClass[c], r.InstancesPerClass[c], r.Precision[row], r.Recall[row], r.Ap50[row], r.Ap5095[row])).Append('\n');
            }
        return sb.ToString();
    }

    const string SegFormat = "{0,22}{1,11}{2,11}{3,11}{4,11}{5,11}{6,11}{7,11}{8,11}{9,11}{10,11}";

    /// <summary>
    /// Segmentation's table: <c>Class Images Instances Box(P R mAP50 mAP50-95) Mask(P R mAP50 mAP50-95)</c>, boxes and
    /// masks side by side on each row.
    /// </summary>
    public static string Format(DetectionResults boxes, DetectionResults masks, bool perClass = true)
    {
        var sb = new StringBuilder();
        var second = masks.Kind == "P" ? "Pose(P" : "Mask(P"; // keypoint metrics print as Ultralytics' Pose(…)
        sb.Append(string.Format(CultureInfo.InvariantCulture, SegFormat, "Class", "Images", "Instances",
            "Box(P", "R", "mAP50", "mAP50-95)", second, "R", "mAP50", "mAP50-95)")).Append('\n');
        sb.Append(SegRow("all", boxes.Images, boxes.Instances, (boxes.MeanPrecision, boxes.MeanRecall, boxes.Map50, boxes.Map),
            (masks.MeanPrecision, masks.MeanRecall, masks.Map50, masks.Map))).Append('\n');
        if (perClass)
            for (int row = 0; row < boxes.ClassIndex.Count; row++)
            {
                int c = boxes.ClassIndex[row];
                var m = masks.ForClass(c) ?? (0, 0, 0, 0);
                sb.Append(SegRow(boxes.Names[c], boxes.ImagesPerClass[c], boxes.InstancesPerClass[c],
                    (boxes.Precision[row], boxes.Recall[row], boxes.Ap50[row], boxes.Ap5095[row]), m)).Append('\n');
            }
        return sb.ToString();
    }

    static string SegRow(string name, int images, int instances, (double P, double R, double Ap50, double Ap5095) b,
        (double P, double R, double Ap50, double Ap5095) m) =>
        string.Format(CultureInfo.InvariantCulture, SegFormat, name, images, instances,
            G3(b.P), G3(b.R), G3(b.Ap50), G3(b.Ap5095), G3(m.P), G3(m.R), G3(m.Ap50), G3(m.Ap5095));

    static string Row(string name, int images, int instances, double p, double r, double ap50, double ap) =>
        string.Format(CultureInfo.InvariantCulture, RowFormat, name, images, instances, G3(p), G3(r), G3(ap50), G3(ap));

    /// <summary>printf's <c>%.3g</c>: three significant digits, trailing zeros dropped.</summary>
    public static string G3(double v)
    {
        if (double.IsNaN(v)) return "nan";
        var s = v.ToString("G3", CultureInfo.InvariantCulture);
        int e = s.IndexOf('E');
        if (e < 0) return s;
        // .NET writes E-05 / E+03; printf writes e-05 / e+03 with at least two exponent digits.
        var mant = s[..e];
        var exp = int.Parse(s[(e + 1)..], CultureInfo.InvariantCulture);
        return $"{mant}e{(exp < 0 ? '-' : '+')}{Math.Abs(exp):00}";
    }
}
