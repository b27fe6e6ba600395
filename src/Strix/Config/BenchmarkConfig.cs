using Strix.Data;

namespace Strix.Config;

/// <summary>The arguments of <c>strix benchmark</c> (Ultralytics' <c>yolo benchmark</c>, with latency percentiles).</summary>
public sealed record BenchmarkConfig : ConfigRecord
{
    protected override string Command => "benchmark";

    [Arg("model", "weights to benchmark (.safetensors, .pt) or a scale such as yolov8n")] public string? Model { get; init; }
    [Arg("data", "data.yaml, or 'shapes' (mAP50-95 on its val split)")] public string Data { get; init; } = "shapes";
    [Arg("imgsz", "image size (rounded up to the model's stride)")] public int ImgSz { get; init; } = 640;
    [Arg("batch", "batch size of the second latency figure (the first is batch 1)")] public int Batch { get; init; } = 8;
    [Arg("runs", "timed forward passes per latency figure (after 3 warm-up passes)")] public int Runs { get; init; } = 20;
    [Arg("workers", "data loading threads")] public int Workers { get; init; } = DataLoaderOptions.DefaultWorkers;
    [Arg("project", "runs folder")] public string Project { get; init; } = Path.Combine("runs", "benchmark");
    [Arg("name", "run name (benchmark, benchmark2, …)")] public string Name { get; init; } = "benchmark";
    [Arg("exist_ok", "reuse an existing run folder")] public bool ExistOk { get; init; }

    public override void Validate()
    {
        ArgChecks.Required("model", Model, "a .safetensors/.pt weights file or a scale such as yolov8n");
        ArgChecks.ImageSize("imgsz", ImgSz);
        ArgChecks.AtLeast("batch", Batch, 1);
        ArgChecks.AtLeast("runs", Runs, 1);
    }
}
