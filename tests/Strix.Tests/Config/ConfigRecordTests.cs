using Strix.Config;
using Strix.Data;
using Strix.Engine;
using Strix.Engine.Precision;

namespace Strix.Tests.Config;

public class ArgumentListTests
{
    [Fact]
    public void Words_become_pairs_bare_words_flags_last_wins()
    {
        var a = ArgumentList.Parse(new[] { "data=coco8.yaml", "--Resume", "epochs=3", "Save-Period=2", "epochs=5", "device=None", "name=" });
        Assert.Equal(new[] { "data", "resume", "epochs", "save_period", "device", "name" }.Order(), a.Select(kv => kv.Key).Order());
        var d = a.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal("true", d["resume"]);
        Assert.Equal("5", d["epochs"]);
        Assert.Equal("2", d["save_period"]);
        Assert.Null(d["device"]);
        Assert.Null(d["name"]);
        Assert.Throws<ArgumentException>(() => ArgumentList.Parse(new[] { "=3" }));
    }
}

public class TrainConfigTests
{
    [Fact]
    public void Profiler_accepts_simple_and_names_anything_else()
    {
        Assert.True(ConfigRecords.Parse<TrainConfig>(new[] { "profiler=simple" }).ProfilerSimple);
        Assert.False(TrainConfig.Defaults.ProfilerSimple);
        var e = Assert.Throws<ArgumentException>(() => ConfigRecords.Parse<TrainConfig>(new[] { "data=shapes", "profiler=advanced" }).Validate());
        Assert.Contains("profiler=advanced", e.Message);
    }

    [Fact]
    public void Defaults_are_ultralytics()
    {
        var a = TrainConfig.Defaults;
        Assert.Equal((100, 16, 640), (a.Epochs, a.Batch, a.ImgSz));
        Assert.Equal((0.01, 0.01, 0.937, 0.0005), (a.Lr0, a.Lrf, a.Momentum, a.WeightDecay));
        Assert.Equal((3.0, 0.8, 0.1), (a.WarmupEpochs, a.WarmupMomentum, a.WarmupBiasLr));
        Assert.Equal((7.5, 0.5, 1.5), (a.Box, a.Cls, a.Dfl));
        Assert.Equal((64, "auto", 10, 100), (a.Nbs, a.Optimizer, a.CloseMosaic, a.Patience));
        Assert.False(a.CosLr);
        Assert.Null(a.Time);
        Assert.Null(a.Precision);
        Assert.Equal(0.7, a.Iou);
        Assert.Equal(ValConfig.Defaults.Iou, a.Iou); // one place for validation defaults
        Assert.Equal(ValConfig.Defaults.MaxDet, a.MaxDet);
        Assert.Equal(new AugmentationOptions().Mosaic, a.Mosaic);
        Assert.Empty(a.Given);
    }

    [Fact]
    public void Values_are_typed_and_given_keys_are_tracked()
    {
        var a = ConfigRecords.Parse<TrainConfig>(new[] { "epochs=3", "precision=bf16-mixed", "cache=ram", "limit_val_batches=0.25", "time=1.5", "max_steps=7", "resume" });
        Assert.Equal(3, a.Epochs);
        Assert.Equal(PrecisionMode.Bf16Mixed, a.Precision);
        Assert.Equal(ImageCacheMode.Ram, a.Cache);
        Assert.Equal(0.25, a.LimitValBatches!.Value.Fraction);
        Assert.Equal(1.5, a.Time);
        Assert.Equal(7L, a.MaxSteps);
        Assert.Equal("yolov8n", a.ResumePath); // bare resume: the model= checkpoint
        Assert.True(a.IsGiven("epochs"));
        Assert.False(a.IsGiven("batch"));
        Assert.Equal(TrainConfig.Defaults.Batch, a.Batch);
    }

    [Fact]
    public void Unknown_and_malformed_arguments_name_the_key_and_value()
    {
        var e = Assert.Throws<ArgumentException>(() => ConfigRecords.Parse<TrainConfig>(new[] { "epoch=3" }));
        Assert.Contains("'epoch' is not a valid train argument", e.Message);
        Assert.Contains("did you mean 'epochs'", e.Message);
        Assert.Contains("imgsz=100 must be a multiple of 32", Assert.Throws<ArgumentException>(() => ConfigRecords.Parse<TrainConfig>(new[] { "imgsz=100" })).Message);
        Assert.Contains("precision", Assert.Throws<ArgumentException>(() => ConfigRecords.Parse<TrainConfig>(new[] { "precision=8" })).Message);
        Assert.Contains("optimizer=lion", Assert.Throws<ArgumentException>(() => ConfigRecords.Parse<TrainConfig>(new[] { "optimizer=lion" })).Message);
        Assert.Contains("epochs=three is not an integer", Assert.Throws<ArgumentException>(() => ConfigRecords.Parse<TrainConfig>(new[] { "epochs=three" })).Message);
        Assert.Contains("lr0=0 must be > 0", Assert.Throws<ArgumentException>(() => ConfigRecords.Parse<TrainConfig>(new[] { "lr0=0" })).Message);
        Assert.Contains("fliplr=1.5", Assert.Throws<ArgumentException>(() => ConfigRecords.Parse<TrainConfig>(new[] { "fliplr=1.5" })).Message);
        Assert.Contains("'conf' is not a valid train argument", Assert.Throws<ArgumentException>(() => ConfigRecords.Parse<TrainConfig>(new[] { "conf=0.5" })).Message);
        Assert.Contains("'model=…'", Assert.Throws<ArgumentException>(() => ConfigRecords.Parse<ValConfig>(new[] { "data=x.yaml" })).Message);
    }

    [Theory]
    [InlineData("3", new[] { 0, 1, 2 })]
    [InlineData("[0, 22]", new[] { 0, 22 })]
    public void Freeze_is_a_count_or_a_list(string text, int[] layers) =>
        Assert.Equal(layers, ConfigRecords.Parse<TrainConfig>(new Dictionary<string, string> { ["freeze"] = text }).FrozenLayers());

    [Fact]
    public void Items_round_trip_through_text_as_checkpoints_store_them()
    {
        var a = ConfigRecords.Parse<TrainConfig>(new[] { "epochs=3", "precision=bf16-mixed", "cache=disk", "freeze=[0, 2]", "lr0=0.0123", "limit_train_batches=5", "time=0.25" });
        var back = TrainConfig.Defaults.With(a.Items().Select(kv => KeyValuePair.Create(kv.Key, (string?)kv.Value)));
        Assert.Equal(a.Items(), back.Items());
        Assert.Equal((a.Precision, a.Cache, a.Lr0, a.Time, a.LimitTrainBatches), (back.Precision, back.Cache, back.Lr0, back.Time, back.LimitTrainBatches));
        Assert.Equal(a.FrozenLayers(), back.FrozenLayers());
    }

    [Fact]
    public void Yaml_items_are_typed_in_ultralytics_order()
    {
        var y = ConfigRecords.Parse<TrainConfig>(new[] { "epochs=3" }).YamlItems().ToList();
        Assert.Equal(new[] { "task", "mode", "model", "data", "epochs" }, y.Take(5).Select(kv => kv.Key));
        var d = y.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(3, d["epochs"]);
        Assert.Equal(false, d["resume"]);
        Assert.Equal(false, d["cache"]);
        Assert.Null(d["time"]);
        Assert.Equal(0.01, d["lr0"]);
        Assert.Equal(ConfigRecord.Arguments(typeof(TrainConfig)).Count, y.Count);
    }
}
