using Strix.Export;

namespace Strix.Config;

/// <summary>The arguments of <c>strix export</c>, with Ultralytics' names.</summary>
public sealed record ExportConfig : ConfigRecord
{
    protected override string Command => "export";

    [Arg("model", "a scale such as yolov8n or a .safetensors/.pt/.onnx weights file")] public string? Model { get; init; }
    [Arg("format", "onnx")] public string Format { get; init; } = "onnx";
    [Arg("imgsz", "input size, or [height, width] (default: the model's training size)")] public int[]? ImgSz { get; init; }
    [Arg("dynamic", "symbolic batch, height and width")] public bool Dynamic { get; init; }
    [Arg("half", "float16 weights, input and output")] public bool Half { get; init; }
    [Arg("opset", "ONNX opset")] public int Opset { get; init; } = OnnxExportOptions.DefaultOpset;
    [Arg("batch", "batch size of a static export")] public int Batch { get; init; } = 1;
    [Arg("nc", "class count of a fresh model")] public int? Nc { get; init; }
    [Arg("simplify", "fold constants and drop redundant nodes (ONNX Runtime's basic optimisations, saved as plain ONNX)")] public bool Simplify { get; init; }
    [Arg("nms", "NMS in the graph: output0 [B, max_det, 6] (x1 y1 x2 y2 score class); detection models")] public bool Nms { get; init; }
    [Arg("conf", "with nms: the lowest score kept")] public double Conf { get; init; } = 0.25;
    [Arg("iou", "with nms: NMS IoU threshold")] public double Iou { get; init; } = 0.7;
    [Arg("max_det", "with nms: detections per image")] public int MaxDet { get; init; } = 300;
    [Arg("int8", "static INT8 (QDQ) quantisation, calibrated on data's val images")] public bool Int8 { get; init; }
    [Arg("data", "with int8: the dataset whose val images calibrate the ranges (data.yaml, or 'shapes')")] public string? Data { get; init; }
    [Arg("fraction", "with int8: the share of the val images used for calibration")] public double Fraction { get; init; } = 1.0;
    [Arg("calibration", "with int8: minmax or percentile (99.99% of |values|)")] public string Calibration { get; init; } = "minmax";
    [Arg("output", "output file (default: beside the weights, .onnx)")] public string? Output { get; init; }

    public override void Validate()
    {
        ArgChecks.Required("model", Model, "a scale such as yolov8n or a .safetensors/.pt/.onnx weights file");
        if (!Format.Equals("onnx", StringComparison.OrdinalIgnoreCase))
            throw new NotSupportedException($"format={Format} is not supported; Strix exports format=onnx (run TensorRT, OpenVINO, CoreML … from the ONNX file)");
        if (ImgSz is { } s)
        {
            if (s.Length is not (1 or 2)) throw new ArgumentException($"imgsz takes one size or [height, width], got {s.Length} values");
            foreach (var v in s) ArgChecks.ImageSize("imgsz", v);
        }
        OnnxExporter.ValidateOpset(Opset);
        ArgChecks.AtLeast("batch", Batch, 1);
        if (Nc is int nc) ArgChecks.AtLeast("nc", nc, 1);
        if (Int8)
        {
            ArgChecks.Required("data", Data, "the dataset whose val images calibrate INT8 (e.g. data=shapes)");
            if (Half) throw new ArgumentException("int8=true and half=true exclude each other: INT8 starts from the float32 graph");
            if (Calibration is not ("minmax" or "percentile")) throw new ArgumentException($"calibration={Calibration}: expected minmax or percentile");
            if (!(Fraction > 0 && Fraction <= 1)) throw new ArgumentException($"fraction={Fraction} must be in (0, 1]");
        }
    }
}
