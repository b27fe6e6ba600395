using System.Text;
using Strix.Engine;
using Strix.Engine.Callbacks;
using Strix.Engine.Loggers;

namespace Strix.Tests.Engine;

public class LoggerTests
{
    [Theory]
    [InlineData(0.0123456789, "0.0123457")]
    [InlineData(1e-5, "1e-05")]
    [InlineData(123456789.0, "1.23457e+08")]
    [InlineData(0.1, "0.1")]
    [InlineData(2.5, "2.5")]
    [InlineData(1.0 / 3, "0.333333")]
    [InlineData(7.5e-7, "7.5e-07")]
    [InlineData(100000.0, "100000")]
    [InlineData(999999.5, "1e+06")]
    [InlineData(1234567.0, "1.23457e+06")]
    [InlineData(0.000123456, "0.000123456")]
    [InlineData(3.0, "3")]
    [InlineData(-0.00012, "-0.00012")]
    [InlineData(1.0000001, "1")]
    [InlineData(double.NaN, "nan")]
    public void Csv_numbers_match_pythons_percent_6g(double v, string expected) => Assert.Equal(expected, CsvLogger.Format(v));

    [Fact]
    public void Csv_with_ultralytics_columns_and_resume_truncation()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "results.csv");
        var cols = new[] { "train/box_loss", "metrics/mAP50(B)", "lr/pg0" };
        var csv = new CsvLogger(path, cols);
        for (int e = 1; e <= 3; e++)
            csv.LogEpoch(e, new[] { KeyValuePair.Create("lr/pg0", 0.01 * e), KeyValuePair.Create("train/box_loss", 1.0 / e), KeyValuePair.Create("fitness", 9.0) });
        var lines = File.ReadAllLines(path);
        Assert.Equal("epoch,train/box_loss,metrics/mAP50(B),lr/pg0", lines[0]);
        Assert.Equal("2,0.5,,0.02", lines[2]);
        Assert.Equal(4, lines.Length);

        // A run resumed from a checkpoint taken after epoch 2 drops row 3 and rewrites it.
        var resumed = new CsvLogger(path, cols);
        resumed.OnResume(2);
        Assert.Equal(3, File.ReadAllLines(path).Length);
        resumed.LogEpoch(3, new[] { KeyValuePair.Create("train/box_loss", 0.25) });
        Assert.Equal("3,0.25,,", File.ReadAllLines(path)[3]);
    }

    [Fact]
    public void Csv_without_fixed_columns_grows_its_header()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "results.csv");
        var csv = new CsvLogger(path);
        csv.LogEpoch(1, new[] { KeyValuePair.Create("a", 1.0) });
        csv.LogEpoch(2, new[] { KeyValuePair.Create("a", 2.0), KeyValuePair.Create("b", 3.0) });
        Assert.Equal(new[] { "epoch,a,b", "1,1,", "2,2,3" }, File.ReadAllLines(path));
    }

    [Fact]
    public void Crc32c_matches_the_standard_check_value()
    {
        Assert.Equal(0xE3069283u, TfRecord.Crc32C(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, TfRecord.Crc32C(ReadOnlySpan<byte>.Empty));
        // 32 bytes of zeros: RFC 3720 (iSCSI) test vector.
        Assert.Equal(0x8A9136AAu, TfRecord.Crc32C(new byte[32]));
    }

    [Fact]
    public void TensorBoard_event_file_reads_back_with_scalars_and_steps()
    {
        var dir = TestPaths.NewTempDir();
        var tb = new TensorBoardLogger(dir);
        tb.LogEpoch(1, new[] { KeyValuePair.Create("train/loss", 0.75), KeyValuePair.Create("lr/pg0", 0.01) });
        tb.LogEpoch(2, new[] { KeyValuePair.Create("train/loss", 0.5) });
        tb.LogStep(17, new[] { KeyValuePair.Create("step/loss", 0.125) });
        tb.Finish();
        var file = Assert.Single(Directory.GetFiles(dir));
        Assert.StartsWith("events.out.tfevents.", Path.GetFileName(file));
        using (var fs = File.OpenRead(file))
        {
            var first = TensorBoardEvent.Parse(TfRecord.ReadAll(fs).First());
            Assert.Equal("brain.Event:2", first.FileVersion);
            Assert.True(first.WallTime > 1.6e9);
        }
        var scalars = TensorBoardLogger.ReadScalars(file);
        Assert.Equal(new[] { ("train/loss", 1L, 0.75f), ("lr/pg0", 1L, 0.01f), ("train/loss", 2L, 0.5f), ("step/loss", 17L, 0.125f) }, scalars);

        // A flipped byte is caught by the CRC.
        var bytes = File.ReadAllBytes(file);
        bytes[^6] ^= 0x40;
        File.WriteAllBytes(file, bytes);
        Assert.Throws<InvalidDataException>(() => TensorBoardLogger.ReadScalars(file));
    }

    [Fact]
    public void A_training_run_feeds_both_loggers_with_learning_rates()
    {
        var dir = TestPaths.NewTempDir();
        var csv = new CsvLogger(Path.Combine(dir, "results.csv"));
        var tb = new TensorBoardLogger(dir);
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 2 }, new Callback[] { new LearningRateMonitor() }, new TrainingLogger[] { csv, tb });
        trainer.Fit(new PointClassifier(lr: 0.1), new PointData(32, 16), new PointData(16, 16));
        var lines = File.ReadAllLines(Path.Combine(dir, "results.csv"));
        Assert.Equal("epoch,train/loss,val/loss,metrics/accuracy,fitness,lr/pg0,lr/pg1,lr/pg2", lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.EndsWith(",0.1,0.1,0.1", lines[1]);     // linear lf(0) = 1
        Assert.EndsWith(",0.055,0.055,0.055", lines[2]); // lf(1) of 2 epochs, lrf 0.1: 0.5·0.9 + 0.1
        var scalars = TensorBoardLogger.ReadScalars(tb.FilePath!);
        Assert.Contains(scalars, s => s.Tag == "lr/pg1" && s.Step == 2 && Math.Abs(s.Value - 0.055f) < 1e-7);
    }
}
