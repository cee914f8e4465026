import type * as z from 'zod';

type Issue = z.core.$ZodRawIssue;

const kinds: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  bigint: 'a whole number',
  date: 'a date',
};

const formats: Record<string, string> = {
  email: 'an email address',
  url: 'a URL',
  uuid: 'a GUID',
  guid: 'a GUID',
  datetime: 'an ISO 8601 date and time',
  date: 'an ISO 8601 date',
};

const quoted = (value: unknown): string => JSON.stringify(value);

function listOf(values: readonly unknown[]): string {
  const shown = values.map(quoted);
  return shown.length === 1 ? shown[0]! : `one of ${shown.join(', ')}`;
}

function sizeOf(issue: Issue & { origin?: string }, count: number | bigint): string {
  if (issue.origin === 'string') return `${count} character${count === 1 ? '' : 's'}`;
  if (issue.origin === 'array' || issue.origin === 'set')
    return `${count} item${count === 1 ? '' : 's'}`;
  return String(count);
}

/**
 * What is wrong with one field, in plain words for the person who sent it, instead of zod's
 * own wording ("Invalid input: expected string, received undefined"). Messages a schema states
 * itself ("must be a GUID") win over these. undefined: zod's message stands.
 */
export function plainMessage(issue: Issue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined)
        return issue.path?.length ? 'is required' : 'is required: send a JSON object';
      const kind = kinds[issue.expected] ?? `a ${issue.expected}`;
      if (issue.input === null) return `must be ${kind}, not null`;
      return `must be ${kind}`;
    }
    case 'too_small': {
      const { minimum } = issue as unknown as { minimum: number | bigint };
      if (minimum === 1 && issue.origin === 'string') return 'must not be empty';
      if (minimum === 1 && issue.origin === 'array') return 'must have at least one item';
      if (issue.origin === 'number' && !issue.inclusive) return `must be greater than ${minimum}`;
      const what = sizeOf(issue, minimum);
      return issue.origin === 'string' || issue.origin === 'array'
        ? `must have at least ${what}`
        : `must be at least ${what}`;
    }
    case 'too_big': {
      const { maximum } = issue as unknown as { maximum: number | bigint };
      if (issue.origin === 'number' && !issue.inclusive) return `must be less than ${maximum}`;
      const what = sizeOf(issue, maximum);
      return issue.origin === 'string' || issue.origin === 'array'
        ? `must have at most ${what}`
        : `must be at most ${what}`;
    }
    case 'invalid_format':
      return formats[issue.format]
        ? `must be ${formats[issue.format]}`
        : 'is not in the expected format';
    case 'invalid_value':
      return `must be ${listOf(issue.values)}`;
    case 'invalid_union': {
      const { options } = issue as unknown as { options?: readonly unknown[] };
      return options?.length ? `must be ${listOf(options)}` : 'is not one of the accepted forms';
    }
    case 'unrecognized_keys':
      return `has ${issue.keys.length === 1 ? 'a field' : 'fields'} it does not accept: ${issue.keys.join(', ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'invalid_key':
      return 'has a key it does not accept';
    case 'invalid_element':
      return 'has an item it does not accept';
    default:
      return undefined;
  }
}
