using Strix.Config;
using Strix.Data;
using Strix.Engine;
using Strix.Plotting;

namespace Strix.Cli.Commands;

/// <summary>
/// <c>strix data check data=coco128.yaml</c>: checks every split, prints the summary and per-class
/// counts, and writes <c>labels.jpg</c> and <c>train_batch0.jpg</c> (augmented samples with boxes)
/// so the data can be looked at before training on it.
/// </summary>
public sealed class DataCommand : ICommand
{
    public string Name => "data";
    public string Summary => "check a dataset and plot it: data check data=coco128.yaml (imgsz=640 batch=16 workers=2 seed=0)";

    public int Run(IReadOnlyList<string> args)
    {
        var c = ConfigRecords.Parse<DataCheckConfig>(args);
        var (data, imgsz, batch, workers, seed, cache, fraction) = (c.Data!, c.ImgSz, c.Batch, c.Workers, c.Seed, c.Cache, c.Fraction);
        var (project, name, existOk) = (c.Project, c.Name, c.ExistOk);
        var hyp = c.ToAugmentation();
        if (IsClassFolders(data)) return CheckClassFolders(c);

        var config = DatasetConfig.Resolve(data, Console.WriteLine);
        Console.WriteLine($"dataset: {config.YamlFile} ({config.Nc} classes, root {config.Path})");
        var saveDir = RunDirectory.Create(project, name, existOk, withWeights: false);

        // A pose dataset's rows carry keypoints: check them as such (kpt_shape and flip_idx from the yaml).
        var opts = DataLoaderOptions.ForTraining(imgsz, batch, workers, seed, hyp) with
        {
            Cache = cache, Fraction = fraction, KptShape = config.KptShape, FlipIdx = config.FlipIdx,
        };
        if (config.KptShape is { } ks)
            Console.WriteLine($"pose: kpt_shape [{ks[0]}, {ks[1]}]" + (config.FlipIdx is { } fi ? $", flip_idx [{string.Join(", ", fi)}]" : ", no flip_idx (a left-right flip keeps keypoint indices)"));
        YoloDataset? train = null;
        foreach (var split in new[] { "train", "val", "test" })
        {
            if (split == "test" && config.Test is null) continue;
            // Same images in two splits (coco128 validates on train) are checked once: the cache answers the second time.
            var ds = YoloDataset.Create(config, split, split == "train" ? opts : opts with { Augment = false, Shuffle = false }, m => Console.WriteLine($"WARNING {m}"));
            Console.WriteLine(ds.Scan.Summary);
            if (ds.Scan.OrphanLabelFiles > 0)
                Console.WriteLine($"{split}: note: {ds.Scan.OrphanLabelFiles} label file(s) have no image and are not used");
            if (split == "train") train = ds;
            PrintClassTable(ds.Scan, config.Names);
        }

        var labelsJpg = Path.Combine(saveDir, "labels.jpg");
        DataPlots.PlotLabels(train!.Scan, config.Names, labelsJpg);
        using var loader = new DataLoader(train);
        loader.SetEpoch(0);
        using (var e = loader.GetEnumerator())
        {
            if (e.MoveNext())
            {
                using var b = e.Current;
                DataPlots.PlotBatch(b, config.Names, Path.Combine(saveDir, "train_batch0.jpg"));
            }
        }
        Console.WriteLine($"plots saved to {saveDir}: labels.jpg, train_batch0.jpg");
        return 0;
    }

    /// <summary>A classification dataset: the built-in shapes-cls, or a folder with train/ (not a data.yaml).</summary>
    static bool IsClassFolders(string data) =>
        !File.Exists(data) && (ShapesClassification.IsBuiltInName(data) || Directory.Exists(Path.Combine(data, "train")));

    /// <summary>Checks every split of a class-folder dataset (each file named that is skipped), prints the per-class counts, plots a training batch.</summary>
    static int CheckClassFolders(DataCheckConfig c)
    {
        var root = ClassificationDataset.ResolveRoot(c.Data!, Console.WriteLine);
        var names = ClassificationDataset.ReadNames(root);
        Console.WriteLine($"dataset: {root} (class folders, {names.Length} classes)");
        var saveDir = RunDirectory.Create(c.Project, c.Name, c.ExistOk, withWeights: false);
        ClassificationDataset? train = null;
        int width = Math.Max(5, names.Max(n => n.Length));
        foreach (var split in new[] { "train", "val", "test" })
        {
            if (!Directory.Exists(Path.Combine(root, split))) { if (split != "test") Console.WriteLine($"{split}: no {split}/ folder"); continue; }
            var ds = ClassificationDataset.Load(root, split, m => Console.WriteLine($"WARNING {m}"));
            if (split == "train") train = ds;
            var counts = ds.ClassCounts();
            Console.WriteLine($"{split}: {ds.Count} images in {counts.Count(n => n > 0)} of {names.Length} classes");
            Console.WriteLine($"  {"class".PadLeft(width)} {"images",8}");
            for (int k = 0; k < names.Length; k++) Console.WriteLine($"  {names[k].PadLeft(width)} {counts[k],8}");
        }
        var loader = new ClassificationLoader(train!, ClassificationLoaderOptions.ForTraining(c.ImgSz, c.Batch, c.Workers, c.Seed, c.ToAugmentation(),
            ClassifyTransforms.DefaultErasing) with { Fraction = c.Fraction });
        using (var b = loader.GetEpoch(0).First()) DataPlots.PlotBatch(b, names, Path.Combine(saveDir, "train_batch0.jpg"));
        Console.WriteLine($"plots saved to {saveDir}: train_batch0.jpg");
        return 0;
    }

    static void PrintClassTable(LabelScan scan, string[] names)
    {
        int width = Math.Max(5, names.Max(n => n.Length));
        Console.WriteLine($"  {"class".PadLeft(width)} {"images",8} {"instances",10}");
        Console.WriteLine($"  {"all".PadLeft(width)} {scan.Valid.Count,8} {scan.Instances,10}");
        for (int c = 0; c < names.Length; c++)
            if (scan.ClassCounts[c] > 0) Console.WriteLine($"  {names[c].PadLeft(width)} {scan.ImageCounts[c],8} {scan.ClassCounts[c],10}");
        int missing = scan.ClassCounts.Count(c => c == 0);
        if (missing > 0) Console.WriteLine($"  ({missing} of {names.Length} classes have no instances)");
    }
}
