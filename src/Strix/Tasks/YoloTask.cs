using Strix.Config;
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
}

/// <summary>The registered tasks, by <c>task=</c> name.</summary>
public static class YoloTasks
{
    static readonly Dictionary<string, YoloTask> Registered = new(StringComparer.OrdinalIgnoreCase);

    static YoloTasks() => Register(new Detect.DetectTask());

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
                : throw new ArgumentException($"task={name} is not available; tasks: {string.Join(", ", Registered.Keys.Order(StringComparer.Ordinal))}");
    }
}
