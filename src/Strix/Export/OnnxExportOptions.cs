namespace Strix.Export;

/// <summary>What <see cref="OnnxExporter"/> writes (Ultralytics' export argument names in the CLI).</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Lowest and highest ONNX opset the exporter emits (the graph uses ops whose signatures are stable across this range).</summary>
    public const int MinOpset = 13, MaxOpset = 19, DefaultOpset = 17;

    /// <summary>Input height in pixels (multiple of the model's largest stride). For dynamic exports it is only recorded as metadata.</summary>
    public int Height { get; init; } = 640;
    /// <summary>Input width in pixels (multiple of the model's largest stride).</summary>
    public int Width { get; init; } = 640;
    /// <summary>Batch size of a static export (recorded as metadata for dynamic ones).</summary>
    public int Batch { get; init; } = 1;
    /// <summary>Symbolic batch, height and width; anchors are then computed in the graph.</summary>
    public bool Dynamic { get; init; }
    /// <summary>float16 weights, input and output.</summary>
    public bool Half { get; init; }
    public int Opset { get; init; } = DefaultOpset;
    /// <summary>Class names by id; null gives <see cref="Models.ModelMetadata.DefaultNames"/> (COCO for 80 classes, else class0, class1, …).</summary>
    public IReadOnlyList<string>? Names { get; init; }
    /// <summary>The metadata description; null gives "Strix YOLOv8n model".</summary>
    public string? Description { get; init; }

    /// <summary>
    /// NMS in the graph (Ultralytics' <c>nms</c>): output0 becomes [B, <see cref="MaxDet"/>, 6] rows of x1 y1 x2 y2 score
    /// class, with <see cref="Conf"/> and <see cref="Iou"/> fixed in the file. Detection models only.
    /// </summary>
    public bool Nms { get; init; }
    /// <summary>With <see cref="Nms"/>: the lowest score kept.</summary>
    public float Conf { get; init; } = 0.25f;
    /// <summary>With <see cref="Nms"/>: the IoU above which a box of the same class is suppressed.</summary>
    public float Iou { get; init; } = 0.7f;
    /// <summary>With <see cref="Nms"/>: detections per image.</summary>
    public int MaxDet { get; init; } = 300;

    /// <summary>Square input size (sets both <see cref="Height"/> and <see cref="Width"/>).</summary>
    public int ImageSize { init { Height = value; Width = value; } }
}
