namespace Strix.Config;

/// <summary>The arguments of <c>strix info</c>.</summary>
public sealed record InfoConfig : ConfigRecord
{
    protected override string Command => "info";

    [Arg("model", "scale name or weights file")] public string Model { get; init; } = "yolov8n";
    [Arg("imgsz", "image size the GFLOPs are counted at")] public int ImgSz { get; init; } = 640;
    [Arg("nc", "class count of a fresh model")] public int? Nc { get; init; }
    [Arg("fuse", "fold batch norms first (as deployed)")] public bool Fuse { get; init; }

    public override void Validate()
    {
        ArgChecks.ImageSize("imgsz", ImgSz);
        if (Nc is int nc) ArgChecks.AtLeast("nc", nc, 1);
    }
}
