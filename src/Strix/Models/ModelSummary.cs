using System.Globalization;
using System.Text;

namespace Strix.Models;

/// <summary>Human-readable model descriptions in the style Ultralytics prints them.</summary>
public static class ModelSummary
{
    /// <summary>The architecture table: index, from, repeats, parameters, module and its arguments.</summary>
    public static string Table(DetectionModel model)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{"",3} {"from",-16} {"n",3} {"params",10}  {"module",-10} arguments");
        foreach (var l in model.Layers)
        {
            long p = l.Module.parameters().Sum(t => t.numel());
            var from = l.From.Length == 1 ? l.From[0].ToString(CultureInfo.InvariantCulture) : "[" + string.Join(", ", l.From) + "]";
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{l.Index,3} {from,-16} {l.Repeats,3} {p,10:N0}  {l.Type,-10} {l.Arguments}"));
        }
        return sb.ToString().TrimEnd();
    }

    /// <summary>"YOLOv8n summary: 225 layers, 3,157,200 parameters, 3,157,184 gradients, 8.9 GFLOPs at 640".</summary>
    public static string Line(DetectionModel model, double gflops, int imgsz)
    {
        int layers = model.modules().Count();
        return string.Create(CultureInfo.InvariantCulture,
            $"{model.DisplayName} summary{(model.IsFused ? " (fused)" : "")}: {layers} layers, {model.ParameterCount():N0} parameters, {model.GradientCount():N0} gradients, {gflops:F1} GFLOPs at {imgsz}");
    }
}
