// Alerts on what the app logs (docs/operations.md, Alerts): scheduled log queries on Application
// Insights over the JSON lines the app writes (`invocation {...}`, `timer run {...}`,
// `outbox backlog {...}`), declared in alert-rules.json, and an action group that emails the
// operators.

@description('Location of the alert rules.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Suffix that makes resource names unique.')
param resourceToken string

@description('Resource id of the Application Insights component the app logs to.')
param applicationInsightsId string

@description('Where alerts are emailed.')
param alertEmail string

// When this deployment ran (ISO 8601): `{deployedAt}` in a query. stale-timer gives an app that
// has logged nothing yet an hour from the deployment to start, before it counts its timers stale.
@description('The time of this deployment; leave the default.')
param deployedAt string = utcNow('yyyy-MM-ddTHH:mm:ssZ')

// Literal in the compiled template, so the tests read the very queries Azure receives.
var rules = loadJsonContent('alert-rules.json').rules

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-operators-${resourceToken}'
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'operators'
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in rules: {
    name: 'alert-${rule.key}-${resourceToken}'
    location: location
    tags: tags
    properties: {
      displayName: rule.displayName
      description: 'What it means and what to do: docs/operations.md, Alerts (${rule.key}).'
      severity: rule.severity
      enabled: true
      scopes: [applicationInsightsId]
      evaluationFrequency: rule.frequency
      windowSize: rule.window
      overrideQueryTimeRange: rule.lookback
      // Azure validates a query against the component's tables when the rule is created, and a
      // component created minutes ago may not have them yet (a first deployment then fails and
      // a rerun passes). The queries are held to what the app logs by the tests instead.
      skipQueryValidation: true
      criteria: {
        allOf: [
          {
            query: replace(join(rule.query, '\n'), '{deployedAt}', deployedAt)
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: [actionGroup.id]
      }
    }
  }
]
