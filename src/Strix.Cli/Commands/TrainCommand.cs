using Strix.Engine.Strategies;
using Strix.Engine.Yolo;

namespace Strix.Cli.Commands;

/// <summary>
/// <c>strix train data=… model=yolov8n epochs=100 imgsz=640 …</c> (every Ultralytics train argument), or
/// <c>strix train resume model=runs/detect/train/weights/last.safetensors [epochs=N]</c>.
/// With no arguments it trains yolov8n on the built-in <c>shapes</c> dataset in a few minutes.
/// Under <c>mpirun -np N</c> (or srun) it trains data-parallel on N ranks (docs/distributed.md).
/// </summary>
public sealed class TrainCommand : ICommand
{
    /// <summary>The built-in quick run: sized to finish in about five minutes on a 2-core CPU.</summary>
    public static readonly (int Epochs, int ImgSz, int Batch) ShapesPreset = (20, 256, 16);

    public string Name => "train";
    public string Summary => "train a detector (data=shapes model=yolov8n epochs=… imgsz=… batch=…; resume model=…/last.safetensors)";

    public int Run(CliArgs args)
    {
        if (args.GetBool("resume", false))
        {
            var last = args.Require("model", "the run's weights/last.safetensors");
            int? epochs = args.Has("epochs") ? args.GetInt("epochs", 0) : null;
            args.EnsureAllUsed(Name);
            return DistributedLaunch.Run(strategy => { YoloTrainer.Resume(last, epochs, strategy: strategy); return 0; });
        }
        var lookup = new CliLookup(args);
        var a = TrainArgs.FromLookup(lookup);
        // The built-in dataset gets a preset that finishes quickly, unless the user chose otherwise.
        if (a.Data == "shapes")
            a = a with
            {
                Epochs = args.Has("epochs") ? a.Epochs : ShapesPreset.Epochs,
                ImgSz = args.Has("imgsz") ? a.ImgSz : ShapesPreset.ImgSz,
                Batch = args.Has("batch") ? a.Batch : ShapesPreset.Batch,
                Hyp = args.Has("close_mosaic") ? a.Hyp : a.Hyp with { CloseMosaic = Math.Min(a.Hyp.CloseMosaic, 5) },
            };
        args.EnsureAllUsed(Name);
        return DistributedLaunch.Run(strategy => { YoloTrainer.Train(a, strategy: strategy); return 0; });
    }

    sealed class CliLookup(CliArgs args) : ITrainArgLookup
    {
        public string String(string key, string fallback) => args.GetString(key, fallback)!;
        public int Int(string key, int fallback) => args.GetInt(key, fallback);
        public double Double(string key, double fallback) => args.GetDouble(key, fallback);
        public bool Bool(string key, bool fallback) => args.GetBool(key, fallback);
    }
}
