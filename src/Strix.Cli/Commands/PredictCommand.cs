using Strix.Config;

namespace Strix.Cli.Commands;

/// <summary>
/// <c>strix predict model=… source=image|video|dir|glob|list.txt|0|rtsp://… conf=0.25 iou=0.7 imgsz=640 save=true</c>:
/// annotated images and videos, and YOLO-format labels, in <c>runs/detect/predict*/</c>.
/// </summary>
public sealed class PredictCommand : ICommand
{
    public string Name => "predict";
    public string Summary => "detect objects in images, videos, cameras and streams (model=… source=… conf=0.25 iou=0.7 imgsz=640 save=true save_txt=false vid_stride=1)";

    public int Run(IReadOnlyList<string> args) => PredictionLoop.Run(ConfigRecords.Parse<PredictConfig>(args), track: null);
}
