using Strix.Config;

namespace Strix.Cli.Commands;

/// <summary>
/// <c>strix track model=… source=video.mp4|0|rtsp://… tracker=bytetrack.yaml|botsort.yaml [region=x1,y1,x2,y2]</c>:
/// predictions with track ids, drawn with ids and trails into <c>runs/detect/track*/</c>, and in/out counts when a
/// counting line or zone is given.
/// </summary>
public sealed class TrackCommand : ICommand
{
    public string Name => "track";
    public string Summary => "follow objects across video frames with ids (model=… source=… tracker=bytetrack.yaml region=x1,y1,x2,y2 for counting)";

    public int Run(IReadOnlyList<string> args)
    {
        var c = ConfigRecords.Parse<TrackConfig>(args);
        return PredictionLoop.Run(c, c);
    }
}
