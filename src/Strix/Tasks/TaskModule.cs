using System.Text.Json.Nodes;
using Strix.Config;
using Strix.Data;
using Strix.Engine;
using Strix.Models;
using static TorchSharp.torch;

namespace Strix.Tasks;

/// <summary>
/// What every YOLO task's <see cref="StrixModule{TBatch}"/> shares: the model and its class names, the
/// run's <see cref="TrainConfig"/>, Ultralytics' optimizer and schedule (<see cref="YoloOptimizer"/>),
/// moving collated <see cref="Batch"/>es to the device, and the checkpoint metadata (the model's
/// description and the run's arguments, which <c>resume</c> reads back). A task adds its training step,
/// its loss and its validator.
/// </summary>
public abstract class TaskModule : StrixModule<Batch>
{
    readonly int _trainImages;

    protected TaskModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter? log)
        : base(model)
    {
        if (names.Count != model.NumClasses) throw new ArgumentException($"{names.Count} class names for a model with {model.NumClasses} classes");
        Detector = model;
        Names = names.ToArray();
        Config = config;
        _trainImages = trainImages;
        Out = log ?? Console.Out;
    }

    /// <summary>The network (also <see cref="StrixModule.Model"/>).</summary>
    public DetectionModel Detector { get; }
    /// <summary>The classes trained (one, "item", under <c>single_cls</c>).</summary>
    public IReadOnlyList<string> Names { get; }
    /// <summary>The run's arguments.</summary>
    public TrainConfig Config { get; }
    /// <summary>Where the module's messages go.</summary>
    protected TextWriter Out { get; }

    /// <summary>The columns of results.csv after <c>epoch</c>, in Ultralytics' order.</summary>
    public abstract IReadOnlyList<string> ResultColumns { get; }

    /// <summary>
    /// Switches validation to the final evaluation of the best weights (Ultralytics' <c>final_eval</c>):
    /// the per-class table and speed, and with <paramref name="plotsDir"/> the curves, confusion matrices
    /// and val_batch images written there.
    /// </summary>
    public abstract void UseFinalValidation(string? plotsDir);

    /// <summary>Ultralytics' notice as the last <c>close_mosaic</c> epochs begin (the loader switches mosaic off for them).</summary>
    public override void OnTrainEpochStart()
    {
        if (Config.CloseMosaic > 0 && Config.Mosaic > 0 && !Config.Rect && Trainer.Epoch == Config.Epochs - Config.CloseMosaic)
            Out.WriteLine("Closing dataloader mosaic");
    }

    public override OptimizerConfig ConfigureOptimizers() =>
        YoloOptimizer.Configure(Detector, Config, _trainImages, Trainer.MaxEpochs, Names.Count, Out);

    public override Batch TransferBatchToDevice(Batch batch, Device device) =>
        batch.Images.device == device ? batch : batch.To(device);

    /// <summary>The model's metadata (names, scale, image size, the run's arguments) and the arguments as JSON for <c>resume</c>.</summary>
    public override void OnSaveCheckpoint(Checkpoint checkpoint)
    {
        var items = Config.Items();
        var meta = ModelMetadata.For(Detector, Names, Config.ImgSz) with
        {
            TrainArgs = items.ToDictionary(kv => kv.Key, kv => kv.Value),
        };
        foreach (var (k, v) in meta.ToDictionary()) checkpoint.Metadata[k] = v;
        checkpoint.Args = new JsonObject(items.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
    }
}
