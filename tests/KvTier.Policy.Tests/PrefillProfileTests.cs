using KvTier.Core;
using KvTier.Policy;

namespace KvTier.Policy.Tests;

public sealed class PrefillProfileTests
{
    private const string Good = """
        // a profile may carry comments
        {
          "model": "llama-3.1-8b",
          "device": "l4",
          "source": "measured with vLLM 0.6 on one L4, 20 prompts",
          "overhead_ms": 9.5,
          "linear_ms_per_token": 0.21,
          "attention_ms_per_token_pair": 6e-6,
        }
        """;

    [Fact]
    public void Parses_a_good_profile()
    {
        var profile = PrefillProfile.Parse(Good);

        Assert.Equal(new PrefillProfile("llama-3.1-8b", "l4", "measured with vLLM 0.6 on one L4, 20 prompts", 9.5, 0.21, 6e-6), profile);
    }

    [Fact]
    public void Written_text_parses_back_to_the_same_profile()
    {
        var profile = PrefillProfile.Parse(Good);

        Assert.Equal(profile, PrefillProfile.Parse(profile.ToJson()));
    }

    [Theory]
    [InlineData("""{"device":"d","source":"s","overhead_ms":1,"linear_ms_per_token":1,"attention_ms_per_token_pair":0}""", "model", "is missing")]
    [InlineData("""{"model":"m","device":"d","overhead_ms":1,"linear_ms_per_token":1,"attention_ms_per_token_pair":0}""", "source", "is missing")]
    [InlineData("""{"model":"m","device":"d","source":" ","overhead_ms":1,"linear_ms_per_token":1,"attention_ms_per_token_pair":0}""", "source", "say where the numbers come from")]
    [InlineData("""{"model":"","device":"d","source":"s","overhead_ms":1,"linear_ms_per_token":1,"attention_ms_per_token_pair":0}""", "model", "must not be empty")]
    [InlineData("""{"model":7,"device":"d","source":"s","overhead_ms":1,"linear_ms_per_token":1,"attention_ms_per_token_pair":0}""", "model", "must be a string, got a number")]
    [InlineData("""{"model":"m","device":"d","source":"s","overhead_ms":"1","linear_ms_per_token":1,"attention_ms_per_token_pair":0}""", "overhead_ms", "must be a number, got a string")]
    [InlineData("""{"model":"m","device":"d","source":"s","overhead_ms":1,"linear_ms_per_token":1,"attention_ms_per_token_pair":-1}""", "attention_ms_per_token_pair", "≥ 0, got -1")]
    [InlineData("""{"model":"m","device":"d","source":"s","overhead_ms":1,"linear_ms_per_token":0,"attention_ms_per_token_pair":0}""", "linear_ms_per_token", "greater than 0")]
    [InlineData("""{"model":"m","device":"d","source":"s","overhead_ms":1,"linear_ms_per_token":1,"attention_ms_per_token_pair":0,"linear_ms_per_tokn":2}""", "linear_ms_per_tokn", "unknown field")]
    [InlineData("""{"model":"m","model":"n","device":"d","source":"s","overhead_ms":1,"linear_ms_per_token":1,"attention_ms_per_token_pair":0}""", "model", "appears twice")]
    [InlineData("""{"model":"m","device":null,"source":"s","overhead_ms":1,"linear_ms_per_token":1,"attention_ms_per_token_pair":0}""", "device", "got null")]
    [InlineData("""{"model":"m","device":"d","source":"s","overhead_ms":[1],"linear_ms_per_token":1,"attention_ms_per_token_pair":0}""", "overhead_ms", "got an array")]
    [InlineData("""{"model":"m","device":"d","source":"s","overhead_ms":{},"linear_ms_per_token":1,"attention_ms_per_token_pair":0}""", "overhead_ms", "got an object")]
    [InlineData("""{"model":"m","device":"d","source":"s","overhead_ms":true,"linear_ms_per_token":1,"attention_ms_per_token_pair":0}""", "overhead_ms", "got a boolean")]
    [InlineData("""{"model":"m","device":"d","source":"s","overhead_ms":1e400,"linear_ms_per_token":1,"attention_ms_per_token_pair":0}""", "overhead_ms", "finite")]
    public void Bad_input_gets_an_error_naming_the_field(string text, string field, string says)
    {
        var error = Assert.Throws<PrefillProfileFormatException>(() => PrefillProfile.Parse(text));

        Assert.Equal(field, error.Field);
        Assert.Contains($"'{field}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(says, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ not json", "not valid JSON")]
    [InlineData("[1, 2]", "must be a JSON object, got an array")]
    public void Text_that_is_not_a_profile_object_is_refused_as_a_whole(string text, string says)
    {
        var error = Assert.Throws<PrefillProfileFormatException>(() => PrefillProfile.Parse(text));

        Assert.Null(error.Field);
        Assert.Contains(says, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Three_built_in_profiles_ship_and_each_states_its_source()
    {
        var names = PrefillProfile.BuiltIn.Select(p => $"{p.Model}@{p.Device}").ToArray();

        Assert.Equal(["llama-3.1-8b@a100-sxm-80gb", "llama-3.1-8b@h100-sxm", "tiny@cpu-2core"], names);
        Assert.All(PrefillProfile.BuiltIn, p => Assert.True(
            p.Source.StartsWith("measured", StringComparison.Ordinal) || p.Source.StartsWith("derived", StringComparison.Ordinal),
            $"{p.Model}@{p.Device}: the source must say whether it was measured or derived"));
        Assert.Contains("engine-sim", PrefillProfile.Get("tiny", "cpu-2core").Source, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("h100-sxm", 989.4, 3.35)]
    [InlineData("a100-sxm-80gb", 312, 2.039)]
    public void Derived_built_in_profiles_are_exactly_what_their_stated_derivation_gives(string device, double peakTflops, double memoryTBps)
    {
        // Keeps the shipped numbers honest: they must follow from the assumptions their source text states.
        var derived = PrefillProfile.Derive(ModelPreset.Get("llama-3.1-8b"), device, peakTflops, memoryTBps, utilisation: 0.4);

        Assert.Equal(derived, PrefillProfile.Get("llama-3.1-8b", device));
    }

    [Fact]
    public void The_h100_profile_prefills_a_thousand_tokens_in_about_forty_ms()
    {
        // 4.48 + 0.03527 × 1000 + 1.325e-6 × 1000 × 500
        Assert.Equal(40.4, PrefillProfile.Get("LLAMA-3.1-8B", "H100-SXM").RecomputeMs(1000, 0), 0.1);
    }

    [Fact]
    public void Unknown_built_in_profiles_and_bad_derivations_are_refused_with_the_choices()
    {
        var error = Assert.Throws<ArgumentException>(() => PrefillProfile.Get("llama-3.1-70b", "h100-sxm"));
        Assert.Contains("tiny@cpu-2core", error.Message, StringComparison.Ordinal);

        var preset = ModelPreset.Get("tiny");
        Assert.Throws<ArgumentOutOfRangeException>(() => PrefillProfile.Derive(preset, "x", 0, 1, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => PrefillProfile.Derive(preset, "x", 1, 0, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => PrefillProfile.Derive(preset, "x", 1, 1, 1.5));
        Assert.Throws<ArgumentException>(() => PrefillProfile.Derive(preset, " ", 1, 1, 0.5));
    }
}
