// The settings azd passes to main.bicep, checked by Azure Resource Manager before it creates
// anything: main.bicep fails the deployment with a message naming the setting when one is
// malformed, instead of deploying an app that then refuses its own settings at load. Each check
// accepts nothing shared/config.ts refuses (test/unit/infra-compiled.test.ts runs both on the
// same values; the GUID and email checks are the config's own rules, character for character).
//
// `!contains([...], false)` is "all of": ARM evaluates every element of the list, so a ternary
// first guards whatever would fail on a value too short. (An allOf() helper would read better,
// but ARM's evaluator took allOf -> isHostLabel -> allOf for a cycle.)

@description('True when every character of value is one of allowed (compared in lower case).')
func consistsOf(value string, allowed string) bool =>
  empty(filter(range(0, length(value)), i => !contains(allowed, toLower(substring(value, i, 1)))))

func isHostLabel(label string) bool =>
  !contains([
    length(label) >= 1
    length(label) <= 63
    consistsOf(label, 'abcdefghijklmnopqrstuvwxyz0123456789-')
    !startsWith(label, '-')
    !endsWith(label, '-')
  ], false)

@export()
@description('A UUID as shared/config.ts reads one (zod uuid): 8-4-4-4-12 hex digits, version 1 to 8 and the RFC variant, or the nil or max UUID.')
func isGuid(value string) bool =>
  length(value) != 36
    ? false
    : contains(['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'], toLower(value)) || !contains([
        length(replace(value, '-', '')) == 32
        consistsOf(replace(value, '-', ''), '0123456789abcdef')
        join(map([8, 13, 18, 23], i => substring(value, i, 1)), '') == '----'
        contains('12345678', substring(value, 14, 1))
        contains('89ab', toLower(substring(value, 19, 1)))
      ], false)

@export()
@description('An email address as shared/config.ts reads one (zod email): dot-separated local labels of letters, digits and _\'+-, not ending in \', then @ and a domain whose last label is two letters or more.')
func isEmail(value string) bool =>
  length(split(value, '@')) != 2
    ? false
    : !contains([
        empty(filter(
          split(split(value, '@')[0], '.'),
          label => empty(label) || !consistsOf(label, 'abcdefghijklmnopqrstuvwxyz0123456789_\'+-')
        ))
        !endsWith(split(value, '@')[0], '\'')
        length(split(split(value, '@')[1], '.')) >= 2
        empty(filter(
          take(split(split(value, '@')[1], '.'), length(split(split(value, '@')[1], '.')) - 1),
          label =>
            empty(label) || !consistsOf(take(label, 1), 'abcdefghijklmnopqrstuvwxyz0123456789') || !consistsOf(label, 'abcdefghijklmnopqrstuvwxyz0123456789-')
        ))
        length(last(split(split(value, '@')[1], '.'))) >= 2
        consistsOf(last(split(split(value, '@')[1], '.')), 'abcdefghijklmnopqrstuvwxyz')
      ], false)

@export()
@description('A DNS domain name such as mail.contoso.com: two labels or more of letters, digits and inner hyphens, the last one letters only.')
func isDomainName(value string) bool =>
  !contains([
    length(value) <= 253
    length(split(value, '.')) >= 2
    empty(filter(split(value, '.'), label => !isHostLabel(label)))
    consistsOf(last(split(value, '.')), 'abcdefghijklmnopqrstuvwxyz')
  ], false)

@description('host or host:port, the host a domain name or localhost, the port 1 to 5 digits.')
func isHostAndPort(value string) bool =>
  length(split(value, ':')) > 2
    ? false
    : !contains([
        split(value, ':')[0] == 'localhost' || isDomainName(split(value, ':')[0])
        length(split(value, ':')) == 1 || (length(last(split(value, ':'))) >= 1 && length(last(split(value, ':'))) <= 5 && consistsOf(last(split(value, ':')), '0123456789'))
      ], false)

@export()
@description('An https:// URL with a host (a path may follow), as email links need: PORTAL_BASE_URL.')
func isHttpsUrl(value string) bool =>
  !startsWith(toLower(value), 'https://')
    ? false
    : !contains([
        !contains(value, ' ')
        isHostAndPort(split(substring(value, 8), '/')[0])
      ], false)

@export()
@description('A browser origin CORS allows: https://host[:port], or http://localhost[:port] for a portal under development; no path, no wildcard.')
func isOrigin(value string) bool =>
  startsWith(toLower(value), 'https://')
    ? isHostAndPort(substring(value, 8))
    : startsWith(toLower(value), 'http://localhost') && isHostAndPort(substring(value, 7))
