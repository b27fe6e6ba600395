using Strix.Config;
using Strix.Data;
using Strix.Models;

namespace Strix.Tasks;

/// <summary>
/// One YOLO task (<c>task=detect</c> …) as the training driver sees it: the module that trains and
/// validates it. A new task is a folder under <c>Tasks/</c> with its module, validator and loss wiring,
/// and one line in <see cref="YoloTasks"/>; the generic engine does not change.
/// </summary>
public abstract class YoloTask
{
    /// <summary>The <c>task=</c> name (Ultralytics' names: detect, segment, classify, pose, obb).</summary>
    public abstract string Name { get; }

    /// <summary>The module training <paramref name="model"/> on <paramref name="trainImages"/> images under <paramref name="config"/>.</summary>
    public abstract TaskModule CreateModule(DetectionModel model, IReadOnlyList<string> names, TrainConfig config, int trainImages, TextWriter log);

    /// <summary>The <c>data=</c> a run of this task uses when none is given (a built-in dataset).</summary>
    public virtual string DefaultData => "shapes";

    /// <summary>The <c>model=</c> a run of this task uses when none is given.</summary>
    public virtual string DefaultModel => "yolov8n";

    /// <summary>Whether the loaders carry the dataset's keypoints (pose): its kpt_shape and flip_idx go into their options.</summary>
    public virtual bool ReadsKeypoints => false;

    /// <summary>The <c>imgsz</c> a run of this task uses when none is given (Ultralytics: 640, classification 224).</summary>
    public virtual int DefaultImgSz => 640;

    /// <summary>Reads the dataset <paramref name="data"/> names: a data.yaml (or a built-in name) by default.</summary>
    public virtual TaskDataset OpenDataset(string data, Action<string> log) => new YoloTaskDataset(DatasetConfig.Resolve(data, log), this);

    /// <summary>
    /// The model this task trains for <paramref name="dataset"/>: <paramref name="model"/> itself by default; pose rebuilds
    /// it for the dataset's kpt_shape when they differ (Ultralytics builds the model from the data's kpt_shape).
    /// </summary>
    public virtual DetectionModel? AdaptModel(DetectionModel model, TaskDataset dataset, Action<string> log) => null;

    /// <summary>The data loaders' options for this task (segmentation asks for polygons and target masks).</summary>
    public virtual DataLoaderOptions ConfigureLoader(DataLoaderOptions options, TrainConfig config) => options;

    /// <summary><paramref name="config"/> with this task's name, and its default data and model where none were given.</summary>
    public TrainConfig WithDefaults(TrainConfig config)
    {
        var set = new List<KeyValuePair<string, string?>> { new("task", Name) };
        if (!config.IsGiven("data")) set.Add(new("data", DefaultData));
        if (!config.IsGiven("model")) set.Add(new("model", DefaultModel));
        if (!config.IsGiven("imgsz") && DefaultImgSz != TrainConfig.Defaults.ImgSz) set.Add(new("imgsz", DefaultImgSz.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return config.With(set);
    }
}

/// <summary>The registered tasks, by <c>task=</c> name.</summary>
public static class YoloTasks
{
    static readonly Dictionary<string, YoloTask> Registered = new(StringComparer.OrdinalIgnoreCase);

    static YoloTasks()
    {
        Register(new Detect.DetectTask());
        Register(new Segment.SegmentTask());
        Register(new Classify.ClassifyTask());
        Register(new Pose.PoseTask());
        Register(new Obb.ObbTask());
    }

    /// <summary>Ultralytics' five task names: the CLI's <c>strix TASK COMMAND</c> form accepts each (prediction and export work for all five).</summary>
    public static IReadOnlyList<string> TaskWords { get; } = new[] { "detect", "segment", "classify", "pose", "obb" };

    /// <summary>Whether <paramref name="name"/> is one of <see cref="TaskWords"/> or a registered task.</summary>
    public static bool IsTaskWord(string name) => TaskWords.Contains(name, StringComparer.OrdinalIgnoreCase) || IsTask(name);

    /// <summary>Whether <paramref name="name"/> is a registered task (one that trains).</summary>
    public static bool IsTask(string name)
    {
        lock (Registered) return Registered.ContainsKey(name);
    }

    /// <summary>
    /// The task of a run: <c>task=</c> when given, otherwise guessed from the model's name as Ultralytics does
    /// (<c>yolov8n-seg</c>, <c>…-seg.yaml</c>, <c>…-seg.pt</c> are segmentation, <c>…-cls</c> classification).
    /// </summary>
    public static YoloTask For(TrainConfig config)
    {
        if (config.IsGiven("task")) return Get(config.Task);
        return Get(TaskOfModelName(config.Model) ?? config.Task);
    }

    /// <summary>The task a model's file name implies (Ultralytics' suffixes <c>-seg</c>, <c>-cls</c>), or null.</summary>
    public static string? TaskOfModelName(string? model)
    {
        var stem = Path.GetFileNameWithoutExtension(model ?? "");
        return stem.EndsWith("-seg", StringComparison.OrdinalIgnoreCase) ? "segment"
            : stem.EndsWith("-cls", StringComparison.OrdinalIgnoreCase) ? "classify"
            : stem.EndsWith("-pose", StringComparison.OrdinalIgnoreCase) ? "pose"
            : stem.EndsWith("-obb", StringComparison.OrdinalIgnoreCase) ? "obb" : null;
    }

    /// <summary>Adds (or replaces) a task.</summary>
    public static void Register(YoloTask task)
    {
        lock (Registered) Registered[task.Name] = task;
    }

    /// <summary>The task called <paramref name="name"/>; an <see cref="ArgumentException"/> naming the registered ones otherwise.</summary>
    public static YoloTask Get(string name)
    {
        lock (Registered)
            return Registered.TryGetValue(name, out var t) ? t
                : throw new ArgumentException($"task={name} is not available for training; tasks: {string.Join(", ", Registered.Keys.Order(StringComparer.Ordinal))}");
    }
}
